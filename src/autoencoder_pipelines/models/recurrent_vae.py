"""Recurrent variational encoder for remaining-useful-life estimation (RVE).

Costa, N. & Sánchez, L. (2022). "Variational encoding approach for interpretable
assessment of remaining useful life estimation". Reliability Engineering & System
Safety 222, 108353.

A bidirectional LSTM encodes a window of sensor readings into a 2-D Gaussian latent
variable; a small regressor predicts the RUL from the latent code. The KL term keeps
the latent space smooth and centred, so the 2-D codes of all windows form a map on
which an engine's trajectory towards failure can be read (the "health map").
Optionally an LSTM decoder reconstructs the window from the latent code.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from autoencoder_pipelines.models.base import ConfiguredModel
from autoencoder_pipelines.models.config import RecurrentVAEConfig
from autoencoder_pipelines.models.layers import (
    Sampling,
    TimeDistributed,
    bidirectional_lstm,
)
from autoencoder_pipelines.models.losses import kl_divergence, masked_mse


def build_recurrent_encoder(config: RecurrentVAEConfig) -> keras.Model:
    """Masking -> BiLSTM -> (z_mean, z_log_var).

    Time steps whose features all equal ``mask_value`` (the padding of short test
    engines) are skipped by the LSTMs.
    """
    inputs = keras.Input(config.input_shape, name="window")  # (B, T, F)
    masked = layers.Masking(mask_value=config.mask_value, name="masking")(inputs)
    if config.input_noise > 0:
        # Regularises by jittering the (standardised) sensors; active in training only,
        # and it keeps the mask, so padded steps stay padded.
        masked = layers.GaussianNoise(config.input_noise, seed=config.seed, name="input_noise")(masked)
    hidden = bidirectional_lstm(config.lstm_units, name="bilstm")(masked)  # (B, 2U)
    if config.encoder_dropout > 0:
        hidden = layers.Dropout(config.encoder_dropout, seed=config.seed, name="dropout")(hidden)
    # The latent heads stay float32 under mixed precision: exp(log_var) overflows in fp16.
    z_mean = layers.Dense(config.latent_dim, name="z_mean", dtype="float32")(hidden)
    z_log_var = layers.Dense(config.latent_dim, name="z_log_var", dtype="float32")(hidden)
    return keras.Model(inputs, [z_mean, z_log_var], name="encoder")


def build_regressor(config: RecurrentVAEConfig) -> keras.Model:
    """Latent code -> Dense(tanh) -> RUL."""
    z = keras.Input((config.latent_dim,), name="z")
    hidden = layers.Dense(config.regressor_units, activation="tanh", name="hidden")(z)
    rul = layers.Dense(1, name="rul", dtype="float32", bias_initializer=keras.initializers.Constant(config.rul_bias))(hidden)
    return keras.Model(z, rul, name="regressor")


def build_recurrent_decoder(config: RecurrentVAEConfig) -> keras.Model:
    """Latent code -> RepeatVector(T) -> LSTM -> per-step Dense: a reconstructed window."""
    z = keras.Input((config.latent_dim,), name="z")
    window, n_features = config.input_shape
    repeated = layers.RepeatVector(window, name="repeat")(z)  # (B, T, L)
    hidden = layers.LSTM(config.lstm_units, return_sequences=True, name="lstm")(repeated)  # (B, T, U)
    window = TimeDistributed(layers.Dense(n_features, dtype="float32"), name="reconstruction")(hidden)  # (B, T, F)
    return keras.Model(z, window, name="decoder")


@keras.saving.register_keras_serializable(package="autoencoder_pipelines")
class RecurrentVAE(ConfiguredModel):
    """Recurrent variational encoder with a RUL regressor on its latent space (RVE).

    ``call`` returns a dict: ``z_mean``, ``z_log_var``, ``z`` (sampled in training,
    the mean otherwise, so predictions are deterministic), ``rul`` of shape ``(B,)``
    and, with the decoder, ``reconstruction`` of shape ``(B, T, F)``.
    ``predict`` adds ``config.rul_offset`` to ``rul`` and clips it to ``config.rul_range``.

    Loss (``compute_loss``): ``kl_weight * KL + MSE(rul)``
    ``[+ reconstruction_weight * MSE(window)]``, each term averaged over the batch
    (weighted per window when ``fit`` is given a ``sample_weight``).

    Args:
        config: architecture and loss weights, ``input_shape`` ``(window, sensors)`` and
            ``mask_value``; plain dicts are accepted too.
    """

    config_class = RecurrentVAEConfig

    def __init__(self, config: RecurrentVAEConfig | dict, **kwargs):
        super().__init__(config, **kwargs)
        if self.config.mask_value is None:
            raise ValueError(
                "RecurrentVAE: config.mask_value is not set; the training node fills it in from the data "
                "parameters (the value that pads short engines)."
            )
        self.encoder = build_recurrent_encoder(self.config)
        self.sampling = Sampling(seed=self.config.seed, name="sampling")
        self.regressor = build_regressor(self.config)
        self.decoder = build_recurrent_decoder(self.config) if self.config.decoder else None
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.regression_tracker = keras.metrics.Mean(name="regression_loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss") if self.config.decoder else None
        # Every sub-network is built from its Input, so the whole model is built now:
        # a model trained only through fit() is saved with its weights.
        self.build((None, *self.config.input_shape))

    def build(self, input_shape):
        self.sampling.build([(None, self.config.latent_dim)] * 2)
        self.built = True

    def call(self, inputs, training=False):
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        outputs = {
            "z_mean": z_mean,
            "z_log_var": z_log_var,
            "z": z,
            "rul": ops.squeeze(self.regressor(z, training=training), axis=-1),
        }
        if self.decoder is not None:
            outputs["reconstruction"] = self.decoder(z, training=training)
        return outputs

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # Per-window loss terms, reduced as Keras reduces a weighted loss: the mean over
        # the batch of weight x term (``sample_weight`` None: every window weighs 1).
        weight = None if sample_weight is None else ops.reshape(ops.cast(sample_weight, "float32"), (-1,))

        def reduce(per_window):
            return ops.mean(per_window if weight is None else per_window * weight)

        kl = reduce(kl_divergence(y_pred["z_mean"], y_pred["z_log_var"]))
        regression = reduce(ops.square(ops.cast(y, "float32") - y_pred["rul"]))
        total = self.config.kl_weight * kl + regression
        self.kl_tracker.update_state(kl)
        self.regression_tracker.update_state(regression)
        if self.decoder is not None:
            # Padded steps (all features == mask_value) are not reconstructed.
            mask = ops.any(ops.not_equal(x, self.config.mask_value), axis=-1)
            target = ops.where(ops.expand_dims(mask, -1), x, ops.zeros_like(x))
            reconstruction = reduce(masked_mse(ops.cast(target, "float32"), y_pred["reconstruction"], mask))
            total = total + self.config.reconstruction_weight * reconstruction
            self.reconstruction_tracker.update_state(reconstruction)
        return total

    def finalize_prediction(self, outputs: dict) -> dict:
        """``predict`` adds ``config.rul_offset`` to the RUL estimate and keeps it within the
        labels' range ``config.rul_range``: every label lies in it, so the clip never moves
        an estimate away from the truth. Training and its validation loss see the raw output.
        """
        offset = self.config.rul_offset
        if offset == 0.0 and self.config.rul_range is None:
            return outputs
        rul = outputs["rul"] + np.float32(offset) if offset else outputs["rul"]
        if self.config.rul_range is not None:
            rul = np.clip(rul, *np.asarray(self.config.rul_range, rul.dtype))
        return {**outputs, "rul": rul}

    def raw_rul(self, x, batch_size: int = 1024) -> np.ndarray:
        """The RUL output as training sees it (no offset, no clip), ``(N,)``."""
        return np.concatenate(
            [
                ops.convert_to_numpy(self(x[start : start + batch_size], training=False)["rul"])
                for start in range(0, len(x), batch_size)
            ]
        )

    def encode(self, x, batch_size: int = 1024):
        """Latent means ``(N, latent_dim)`` of a batch of windows (the health-map coordinates)."""
        return self.encoder.predict(x, batch_size=batch_size, verbose=0)[0]
