"""Typed, validated configurations of the models and of training.

Kedro builds these from the parameters files before a run starts (node parameters
typed with them), so a bad value stops the run with the field named, before any data
is read. Values live in ``conf/``; defaults here are only the universal ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnsembleConfig(_Config):
    """Several members trained from seeds derived from the run's seed, predicting as one
    model (``models.Ensemble``); with more than one member they train in parallel as
    tasks on Ray (``autoencoder_pipelines.training.fit_members``)."""

    members: int = Field(default=1, ge=1, description="members trained; 1: one model, trained in the run's process")
    cpus_per_member: int = Field(
        default=1, ge=1, description="CPUs Ray reserves for a member, and the threads its TensorFlow/JAX may use"
    )
    gpus_per_member: float = Field(
        default=0.0,
        ge=0,
        description="GPUs Ray gives a member (0.5: two members share one); Ray hides GPUs from a member given none",
    )
    max_retries: int = Field(
        default=3, ge=0, description="times a member whose worker died is started again (it resumes from its backup)"
    )


class TrainingConfig(_Config):
    """How a model is fitted; shared by every pipeline's training node."""

    seed: int = Field(ge=0, description="seeds Python, NumPy, the Keras backend and the sampling noise")
    epochs: int = Field(gt=0)
    batch_size: int = Field(gt=0, description="global batch size (split across GPUs)")
    learning_rate: float = Field(gt=0)
    lr_decay: float = Field(
        default=1.0, gt=0, le=1, description="learning rate multiplied by this after every epoch (1: constant)"
    )
    weight_decay: float = Field(default=0.0, ge=0, description="decoupled weight decay (AdamW) when > 0")
    patience: int = Field(gt=0, description="epochs without val_loss improvement before stopping")
    min_delta: float = Field(default=0.0, ge=0)
    mixed_precision: bool | Literal["float16", "bfloat16"] = Field(
        default=False,
        description="compute in 16 bits, weights kept in float32: float16 (true; GPUs, with loss scaling) or "
        "bfloat16 (CPUs with AVX512-BF16 or AMX, and recent GPUs); false: float32",
    )
    jit_compile: bool | Literal["auto"] = Field(
        default="auto",
        description="XLA-compile the train step; auto: Keras decides (XLA on JAX and on TensorFlow GPUs, not on TensorFlow CPUs)",
    )
    run_eagerly: bool = Field(
        default=False,
        description="train step run eagerly, not compiled: for debugging, and for tiny runs (conf/test) where tracing the "
        "compiled step costs more than the training",
    )
    backup_dir: Path = Field(description="per-epoch backups; a killed run resumes from here")
    verbose: Literal[0, 1, 2] = Field(default=2, description="Keras fit output: 1 bar, 2 a line per epoch")
    deterministic: bool = Field(default=True, description="deterministic ops (TensorFlow op determinism; XLA's on JAX GPUs)")
    restarts: int = Field(
        default=1, ge=1, description="initialisations tried; the lowest validation loss after restart_epochs goes on"
    )
    restart_epochs: int = Field(default=10, gt=0, description="epochs each restart trains before one is chosen")
    ensemble: EnsembleConfig = Field(default_factory=EnsembleConfig, description="members trained and averaged")

    @model_validator(mode="after")
    def _restarts_end_before_training(self):
        if self.restarts > 1 and self.restart_epochs >= self.epochs:
            raise ValueError(
                f"restart_epochs ({self.restart_epochs}) must be below epochs ({self.epochs}) when restarts > 1"
            )
        return self

    @property
    def dtype_policy(self) -> str:
        """The Keras dtype policy models are built under: ``float32``, ``mixed_float16`` or
        ``mixed_bfloat16``."""
        if self.mixed_precision is False:
            return "float32"
        return "mixed_bfloat16" if self.mixed_precision == "bfloat16" else "mixed_float16"


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
    reconstruction_loss: Literal["binary_crossentropy", "mse"] = Field(
        description="per-pixel loss, averaged over pixels"
    )
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
    rul_offset: float | Literal["nasa_score"] = Field(
        default=0.0,
        description="cycles predict() adds to the RUL estimate before the clip to rul_range; 'nasa_score': the "
        "training node fits it on the validation windows, as the offset that minimises their NASA score",
    )

    @model_validator(mode="after")
    def _rul_range_is_ordered(self):
        if self.rul_range is not None and not self.rul_range[0] < self.rul_range[1]:
            raise ValueError(f"rul_range={self.rul_range}: expected (lowest, highest) with lowest < highest.")
        return self
