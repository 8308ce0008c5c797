"""Typed, validated configurations of the models (the trainer's are in ``training.config``).

Kedro builds these from the parameters files before a run starts (node parameters
typed with them), so a bad value stops the run with the field named, before any data
is read. Values live in ``conf/``; defaults here are only the universal ones.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- MNIST models ------------------------------------------------------------------
# ``input_shape`` and ``seed`` come from the data and the training parameters: the
# training nodes fill them in (``model_copy(update=...)``); the parameters files leave
# them out.


class _ModelConfig(_Config):
    input_shape: tuple[int, ...] | None = Field(
        default=None, description="shape of one input, set from the data by the training node"
    )
    seed: int | None = Field(default=None, description="seed of the model's own noise (sampling, dropout)")


class AutoencoderConfig(_ModelConfig):
    """Dense autoencoder (:class:`Autoencoder`), with an optional sparsity penalty.

    The decoder mirrors the encoder's hidden layers and ends in a sigmoid (pixels in [0, 1]).
    """

    hidden_units: tuple[int, ...] = Field(description="encoder hidden layers; the decoder mirrors them")
    latent_dim: int = Field(gt=0)
    hidden_activation: Literal["relu", "elu", "tanh", "sigmoid"] = "relu"
    latent_activation: Literal["linear", "relu", "sigmoid"] = Field(
        description="activation of the code layer (the 'hidden activation' the sparsity penalty acts on)"
    )
    reconstruction_loss: Literal["binary_crossentropy", "mse"] = Field(description="per-pixel loss, averaged over pixels")
    sparsity: Literal["none", "kl", "l1"] = Field(
        default="none",
        description="kl: KL(rho || mean code activation) per unit (sigmoid codes); l1: mean |code|",
    )
    sparsity_weight: float = Field(default=0.0, ge=0)
    sparsity_target: float = Field(default=0.05, gt=0, lt=1, description="target mean activation rho (kl)")

    @model_validator(mode="after")
    def _kl_needs_sigmoid_codes(self):
        if self.sparsity == "kl" and self.latent_activation != "sigmoid":
            raise ValueError(
                f"sparsity='kl' compares mean activations with a target in (0, 1): it needs "
                f"latent_activation='sigmoid', got {self.latent_activation!r} (or use sparsity='l1')."
            )
        return self


class ContractiveAutoencoderConfig(AutoencoderConfig):
    """Dense autoencoder with the contractive penalty ``lambda * ||J_f(x)||_F^2``."""

    contractive_weight: float = Field(ge=0, description="lambda; 0 gives the plain autoencoder")
    jacobian: Literal["exact", "projection"] = Field(
        default="exact",
        description="exact: the encoder's whole Jacobian (one backward pass per code unit); projection: an unbiased "
        "estimate of its squared norm from one random ±1 projection per sample (one backward pass)",
    )


class VAEConfig(_ModelConfig):
    """MLP variational autoencoder with a Bernoulli likelihood (:class:`VAE`)."""

    hidden_units: tuple[int, ...] = Field(description="encoder hidden layers; the decoder mirrors them")
    latent_dim: int = Field(gt=0)
    kl_weight: float = Field(default=1.0, ge=0, description="1 gives the ELBO; other values a beta-VAE")


class VQVAEConfig(_ModelConfig):
    """Convolutional VQ-VAE (:class:`VQVAE`), van den Oord et al. 2017."""

    filters: tuple[int, ...] = Field(description="channels of the stride-2 convolutions; the decoder mirrors them")
    embedding_dim: int = Field(gt=0, description="size of each codebook vector")
    num_embeddings: int = Field(gt=1, description="codebook size")
    commitment_cost: float = Field(default=0.25, ge=0, description="beta of the commitment loss")
    reconstruction_weight: float = Field(
        default=1.0,
        gt=0,
        description="multiplies the reconstruction MSE; keras-io divides it by the pixel variance (~10x on MNIST)",
    )
    codebook_update: Literal["gradient", "ema"] = Field(
        default="gradient",
        description="gradient: the codebook loss trains the codes; ema: each code is a moving average of the "
        "encoder outputs assigned to it (models.layers.VectorQuantizer)",
    )
    ema_decay: float = Field(default=0.99, gt=0, lt=1, description="decay of the codebook's moving averages (ema)")
    dead_code_threshold: float = Field(
        default=0.0,
        ge=0,
        description="ema: a code used by fewer encoder vectors per batch than this (moving average) restarts at a "
        "random encoder output of the batch; 0 never",
    )

    @model_validator(mode="after")
    def _restarts_need_ema(self):
        if self.dead_code_threshold > 0 and self.codebook_update != "ema":
            raise ValueError(
                f"dead_code_threshold={self.dead_code_threshold} restarts codes by rewriting the codebook, which "
                f"needs codebook_update='ema' (under 'gradient' the optimiser owns it); got {self.codebook_update!r}."
            )
        return self


class VAEClassifierConfig(_ModelConfig):
    """Convolutional VAE (Keras VAE example) with a classifier head on the latent."""

    filters: tuple[int, ...] = Field(description="channels of the stride-2 convolutions; the decoder mirrors them")
    dense_units: int = Field(gt=0, description="dense layer between the convolutions and the latent")
    latent_dim: int = Field(gt=0)
    classifier_units: int = Field(gt=0)
    n_classes: int = Field(default=10, gt=1)
    dropout: float = Field(default=0.0, ge=0, lt=1, description="dropout before the classifier's output layer")
    translation: float = Field(
        default=0.0,
        ge=0,
        lt=0.5,
        description="training only: random shifts of up to this fraction of the image size; the shifted image is also the reconstruction target",
    )
    rotation: float = Field(
        default=0.0,
        ge=0,
        le=0.5,
        description="training only: random rotations of up to this fraction of a full turn (0.03: about 11 degrees), "
        "before the shift; the rotated image is also the reconstruction target",
    )
    reconstruction_weight: float = Field(ge=0)
    kl_weight: float = Field(ge=0)
    classification_weight: float = Field(ge=0)


class RecurrentVAEClassifierConfig(_ModelConfig):
    """Recurrent VAE with a classifier head on its latent space (:class:`RecurrentVAEClassifier`).

    ``input_shape`` is ``(time steps, features)`` of one series.
    """

    lstm_units: int = Field(gt=0, description="units of each LSTM direction, encoder and decoder")
    latent_dim: int = Field(default=2, gt=0)
    classifier_units: int = Field(gt=0)
    n_classes: int = Field(gt=1)
    reconstruction_weight: float = Field(ge=0)
    kl_weight: float = Field(ge=0)
    classification_weight: float = Field(ge=0)


class RecurrentVAEConfig(_ModelConfig):
    """Recurrent variational encoder with a RUL regressor (:class:`RecurrentVAE`).

    ``input_shape`` is ``(window, sensors)``; the training node sets it from the data,
    ``mask_value`` from the data parameters and ``rul_bias`` from the training labels.
    """

    lstm_units: int = Field(gt=0, description="units of each LSTM direction")
    latent_dim: int = Field(default=2, gt=0)
    regressor_units: int = Field(gt=0, description="units of the regressor's tanh layer")
    decoder: bool = Field(default=False, description="add an LSTM decoder and its reconstruction loss")
    kl_weight: float = Field(default=1.0, ge=0)
    reconstruction_weight: float = Field(default=1.0, ge=0)
    input_noise: float = Field(default=0.0, ge=0, description="std of Gaussian noise added to inputs in training")
    encoder_dropout: float = Field(default=0.0, ge=0, lt=1, description="dropout on the BiLSTM output in training")
    mask_value: float | None = Field(
        default=None, description="padding value skipped by the Masking layer (the data's mask_value)"
    )
    rul_bias: float = Field(
        default=0.0, description="initial bias of the RUL output; the mean training RUL starts the fit near the answer"
    )
    rul_range: tuple[float, float] | None = Field(
        default=None,
        description="(lowest, highest) RUL label: predict() clips its estimate to it (the training node sets "
        "(0, max_rul)); None: the raw output",
    )
    rul_offset: float = Field(
        default=0.0,
        description="cycles predict() adds to the RUL estimate before the clip to rul_range (the rul_vae pipeline's "
        "fit_rul_offset node fits it, by RULOffsetConfig)",
    )

    @model_validator(mode="after")
    def _rul_range_is_ordered(self):
        if self.rul_range is not None and not self.rul_range[0] < self.rul_range[1]:
            raise ValueError(f"rul_range={self.rul_range}: expected (lowest, highest) with lowest < highest.")
        return self


class RULOffsetConfig(_Config):
    """The cycles a ``rul_vae`` model adds to every estimate: fitted on the validation
    windows after training (``fit: nasa_score``: the offset that minimises their NASA
    score; late estimates cost more, so the best estimate lies below the mean), or given."""

    fit: Literal["nasa_score", "none"] = Field(description="nasa_score: fitted on validation; none: `cycles` as given")
    cycles: float = Field(default=0.0, description="the offset when fit is none")

    @model_validator(mode="after")
    def _cycles_only_when_given(self):
        if self.fit == "nasa_score" and self.cycles != 0.0:
            raise ValueError(f"cycles={self.cycles} is given but fit is 'nasa_score', which fits them: use fit: none.")
        return self
