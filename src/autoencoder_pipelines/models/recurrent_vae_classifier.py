"""Semi-supervised recurrent VAE for the visual diagnosis of atrial fibrillation.

Costa, N., Sánchez, L., Couso, I. et al. (2021). "Semi-Supervised Recurrent Variational
Autoencoder Approach for Visual Diagnosis of Atrial Fibrillation". IEEE Access 9.

A bidirectional LSTM encodes a patient's AF-burden series into a 2-D Gaussian latent
variable; a RepeatVector + bidirectional LSTM decoder reconstructs the series from it,
and a small classifier reads the class (the disease progression) from the same code,
so the 2-D latent map separates the classes and can be read by a clinician.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from autoencoder_pipelines.models.base import ConfiguredModel
from autoencoder_pipelines.models.config import RecurrentVAEClassifierConfig
from autoencoder_pipelines.models.layers import (
    Sampling,
    TimeDistributed,
    bidirectional_lstm,
)
from autoencoder_pipelines.models.losses import kl_divergence, masked_mse


@keras.saving.register_keras_serializable(package="autoencoder_pipelines")
class RecurrentVAEClassifier(ConfiguredModel):
    """BiLSTM encoder -> 2-D latent -> (BiLSTM decoder, classifier).

    ``call`` returns ``z_mean``, ``z_log_var``, ``z`` (sampled in training, the mean
    otherwise), ``reconstruction`` ``(B, T, F)``, ``class_logits`` and ``probabilities``
    ``(B, n_classes)``.

    Loss: ``reconstruction_weight * MSE(series) + kl_weight * KL +
    classification_weight * CE(y, class_logits)``, ``y`` the integer classes.
    """

    config_class = RecurrentVAEClassifierConfig

    def __init__(self, config: RecurrentVAEClassifierConfig | dict, **kwargs):
        super().__init__(config, **kwargs)
        c = self.config
        if len(c.input_shape) != 2:
            raise ValueError(f"RecurrentVAEClassifier takes (time steps, features) series, got input_shape={c.input_shape}.")
        steps, features = c.input_shape

        series = keras.Input(c.input_shape, name="series")  # (B, T, F)
        hidden = bidirectional_lstm(c.lstm_units, name="bilstm")(series)  # (B, 2U)
        z_mean = layers.Dense(c.latent_dim, name="z_mean", dtype="float32")(hidden)
        z_log_var = layers.Dense(c.latent_dim, name="z_log_var", dtype="float32")(hidden)
        self.encoder = keras.Model(series, [z_mean, z_log_var], name="encoder")
        self.sampling = Sampling(seed=c.seed, name="sampling")
        self.sampling.build([(None, c.latent_dim)] * 2)

        z = keras.Input((c.latent_dim,), name="z")
        repeated = layers.RepeatVector(steps, name="repeat")(z)  # (B, T, L)
        decoded = bidirectional_lstm(c.lstm_units, return_sequences=True, name="bilstm")(repeated)
        reconstruction = TimeDistributed(layers.Dense(features, dtype="float32"), name="reconstruction")(decoded)
        self.decoder = keras.Model(z, reconstruction, name="decoder")  # (B, T, F)

        z = keras.Input((c.latent_dim,), name="z")
        hidden = layers.Dense(c.classifier_units, activation="relu", name="hidden")(z)
        self.classifier = keras.Model(
            z, layers.Dense(c.n_classes, name="class_logits", dtype="float32")(hidden), name="classifier"
        )

        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.classification_tracker = keras.metrics.Mean(name="classification_loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.built = True

    def call(self, inputs, training=False):
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        class_logits = self.classifier(z, training=training)
        return {
            "z_mean": z_mean,
            "z_log_var": z_log_var,
            "z": z,
            "reconstruction": self.decoder(z, training=training),
            "class_logits": class_logits,
            "probabilities": ops.softmax(class_logits),
        }

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        c = self.config
        reconstruction = ops.mean(masked_mse(ops.cast(x, "float32"), y_pred["reconstruction"]))
        kl = ops.mean(kl_divergence(y_pred["z_mean"], y_pred["z_log_var"]))
        classification = ops.mean(keras.losses.sparse_categorical_crossentropy(y, y_pred["class_logits"], from_logits=True))
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.classification_tracker.update_state(classification)
        self.accuracy_tracker.update_state(y, y_pred["probabilities"])
        return c.reconstruction_weight * reconstruction + c.kl_weight * kl + c.classification_weight * classification

    def encode(self, x, batch_size: int = 1024) -> np.ndarray:
        """Latent means ``(N, latent_dim)``: the positions on the diagnosis map."""
        return self.encoder.predict(x, batch_size=batch_size, verbose=0)[0]
