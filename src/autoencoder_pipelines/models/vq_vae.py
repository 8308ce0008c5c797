"""Convolutional VQ-VAE (van den Oord, Vinyals & Kavukcuoglu, NeurIPS 2017)."""

from __future__ import annotations

import keras
from keras import layers, ops

from autoencoder_pipelines.models.architectures import (
    build_conv_stack,
    build_deconv_stack,
    check_conv_shape,
)
from autoencoder_pipelines.models.base import ConfiguredModel
from autoencoder_pipelines.models.config import VQVAEConfig
from autoencoder_pipelines.models.layers import VectorQuantizer
from autoencoder_pipelines.models.losses import reconstruction_error, vq_losses


@keras.saving.register_keras_serializable(package="autoencoder_pipelines")
class VQVAE(ConfiguredModel):
    """Encoder -> vector quantiser -> decoder, where the decoder reads the *quantised* codes.

    ``call`` returns ``z_e`` (encoder output, ``(B, h, w, D)``), ``z_q`` (its nearest
    codebook vectors), ``codes`` (``(B, h, w)`` indices) and ``reconstruction``.
    The decoder gets ``z_e + stop_gradient(z_q - z_e)``: the values of ``z_q`` with
    the gradient of ``z_e`` (straight-through estimator), so the encoder learns through
    the non-differentiable lookup. (The peer decoded ``z_e``, skipping the quantiser.)

    Loss: ``w * MSE(x, x_hat) + ||sg[z_e] - z_q||^2 + beta * ||z_e - sg[z_q]||^2``; keras-io
    takes ``w = 1 / Var(x)``, which keeps the reconstruction from being drowned by the
    codebook terms. With ``codebook_update="ema"`` the codes are moving averages of the
    encoder outputs (optionally with dead codes restarted, :class:`VectorQuantizer`) and the
    codebook term leaves the loss; it is still reported as ``codebook_loss``.
    """

    config_class = VQVAEConfig

    def __init__(self, config: VQVAEConfig | dict, **kwargs):
        super().__init__(config, **kwargs)
        c = self.config
        height, width = check_conv_shape(c.input_shape, c.filters)
        inputs, features = build_conv_stack(c.input_shape, c.filters)
        z_e = layers.Conv2D(c.embedding_dim, 1, padding="same", name="z_e", dtype="float32")(features)
        self.encoder = keras.Model(inputs, z_e, name="encoder")
        # float32 under mixed precision too, as z_e: nearest codes and the straight-through sum in full precision
        self.quantizer = VectorQuantizer(
            c.num_embeddings,
            c.embedding_dim,
            seed=c.seed,
            codebook_update=c.codebook_update,
            decay=c.ema_decay,
            dead_code_threshold=c.dead_code_threshold,
            name="quantizer",
            dtype="float32",
        )
        self.quantizer.build((None, height, width, c.embedding_dim))
        codes = keras.Input((height, width, c.embedding_dim), name="z_q")
        self.decoder = keras.Model(codes, build_deconv_stack(codes, c.filters, c.input_shape[-1], "sigmoid"), name="decoder")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.codebook_tracker = keras.metrics.Mean(name="codebook_loss")
        self.commitment_tracker = keras.metrics.Mean(name="commitment_loss")
        self.built = True

    def call(self, inputs, training=False):
        z_e = self.encoder(inputs, training=training)
        z_q, codes = self.quantizer(z_e, training=training)
        straight_through = z_e + ops.stop_gradient(z_q - z_e)
        return {"z_e": z_e, "z_q": z_q, "codes": codes, "reconstruction": self.decoder(straight_through, training=training)}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        target = x if y is None else y
        reconstruction = ops.mean(reconstruction_error(target, y_pred["reconstruction"], "mse"))
        codebook, commitment = vq_losses(y_pred["z_e"], y_pred["z_q"])
        self.reconstruction_tracker.update_state(reconstruction)
        self.codebook_tracker.update_state(codebook)
        self.commitment_tracker.update_state(commitment)
        total = self.config.reconstruction_weight * reconstruction + self.config.commitment_cost * commitment
        # Under codebook_update="ema" the codes are moving averages, not trained: the codebook
        # loss is still reported (the quantisation error) but is no part of what is minimised.
        return total + codebook if self.config.codebook_update == "gradient" else total
