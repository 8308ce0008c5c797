"""Dense autoencoders: plain, denoising (noisy inputs, clean targets), sparse and contractive.

One class serves the denoising and sparse studies: what makes a denoising autoencoder
is the data (``fit(noisy, clean)``), and the target is always ``y``, never the
corrupted input (the peer compared the output with the noisy input). The sparsity
penalty is part of ``compute_loss`` (in the peer it never reached the Keras 3 loss).
"""

from __future__ import annotations

import keras
from keras import ops

from autoencoder_pipelines.models.architectures import (
    build_dense_decoder,
    build_dense_encoder,
)
from autoencoder_pipelines.models.base import ConfiguredModel
from autoencoder_pipelines.models.config import (
    AutoencoderConfig,
    ContractiveAutoencoderConfig,
)
from autoencoder_pipelines.models.losses import (
    contractive_penalty,
    contractive_penalty_estimate,
    kl_sparsity,
    l1_activity,
    reconstruction_error,
)


@keras.saving.register_keras_serializable(package="autoencoder_pipelines")
class Autoencoder(ConfiguredModel):
    """Dense autoencoder; optional sparsity penalty on its code.

    ``call`` returns ``{"code": (B, latent_dim), "reconstruction": (B, *input_shape)}``.

    Loss: mean per-pixel reconstruction error against ``y`` (``x`` when ``y`` is None)
    ``+ sparsity_weight * penalty(code)``, where the penalty is
    ``sum_j KL(rho || mean_batch(code_j))`` (``sparsity="kl"``, Ng's sparse
    autoencoder) or ``mean_batch(sum_j |code_j|)`` (``"l1"``).
    """

    config_class = AutoencoderConfig

    def __init__(self, config: AutoencoderConfig | dict, **kwargs):
        super().__init__(config, **kwargs)
        c = self.config
        self.encoder = build_dense_encoder(
            c.input_shape, c.hidden_units, c.hidden_activation, {"code": (c.latent_dim, c.latent_activation)}
        )
        self.decoder = build_dense_decoder(
            c.latent_dim, tuple(reversed(c.hidden_units)), c.hidden_activation, c.input_shape, "sigmoid"
        )
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.sparsity_tracker = keras.metrics.Mean(name="sparsity_loss") if c.sparsity != "none" else None
        self.built = True

    def call(self, inputs, training=False):
        code = self.encoder(inputs, training=training)
        return {"code": code, "reconstruction": self.decoder(code, training=training)}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        target = x if y is None else y
        reconstruction = ops.mean(reconstruction_error(target, y_pred["reconstruction"], self.config.reconstruction_loss))
        self.reconstruction_tracker.update_state(reconstruction)
        total = reconstruction
        if self.config.sparsity != "none":
            code = y_pred["code"]
            sparsity = kl_sparsity(code, self.config.sparsity_target) if self.config.sparsity == "kl" else l1_activity(code)
            self.sparsity_tracker.update_state(sparsity)
            total = total + self.config.sparsity_weight * sparsity
        return total

    def encode(self, x, batch_size: int = 1024):
        return self.encoder.predict(x, batch_size=batch_size, verbose=0)


@keras.saving.register_keras_serializable(package="autoencoder_pipelines")
class ContractiveAutoencoder(Autoencoder):
    """Contractive autoencoder (Rifai et al., ICML 2011).

    Adds ``contractive_weight * ||J_f(x)||_F^2`` to the loss, the squared Frobenius
    norm of the Jacobian of the encoder ``f`` at each input, by automatic
    differentiation of the encoder actually used (the peer's closed form assumed a
    sigmoid encoder while its encoder ended in ReLU). Penalising it makes the code
    insensitive to small input changes except along the data manifold.

    ``jacobian="projection"`` replaces the exact norm with an unbiased estimate from one
    random projection per sample (:func:`contractive_penalty_estimate`): one backward
    pass of the encoder instead of one per code unit. Its draws come from a seeded
    generator that the trainer resets every epoch, so a resumed run draws the same.
    """

    config_class = ContractiveAutoencoderConfig

    def __init__(self, config: ContractiveAutoencoderConfig | dict, **kwargs):
        super().__init__(config, **kwargs)
        # No tracker for the plain baseline (lambda = 0): the penalty is not computed there.
        self.contractive_tracker = keras.metrics.Mean(name="contractive_loss") if self.config.contractive_weight > 0 else None
        self.projection_seed = keras.random.SeedGenerator(self.config.seed) if self.config.jacobian == "projection" else None

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        total = super().compute_loss(x, y, y_pred, sample_weight, training)
        if self.config.contractive_weight > 0:
            if self.config.jacobian == "projection":
                penalty = ops.mean(contractive_penalty_estimate(self.encoder, x, self.projection_seed))
            else:
                penalty = ops.mean(contractive_penalty(self.encoder, x))
            self.contractive_tracker.update_state(penalty)
            total = total + self.config.contractive_weight * penalty
        return total
