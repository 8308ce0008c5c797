"""Convolutional VAE of the Keras VAE example with a classifier head on its latent space."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from autoencoder_pipelines.models.architectures import (
    build_conv_stack,
    build_deconv_stack,
    check_conv_shape,
)
from autoencoder_pipelines.models.base import ConfiguredModel
from autoencoder_pipelines.models.config import VAEClassifierConfig
from autoencoder_pipelines.models.layers import Sampling
from autoencoder_pipelines.models.losses import bernoulli_nll, kl_divergence


@keras.saving.register_keras_serializable(package="autoencoder_pipelines")
class VAEClassifier(ConfiguredModel):
    """Convolutional VAE (keras-io "Variational AutoEncoder", fchollet) plus a classifier
    on the latent code: the latent space is shaped both to reconstruct the image and to
    separate the classes.

    ``call`` returns ``z_mean``, ``z_log_var``, ``z`` (sampled in training, the mean
    otherwise), ``logits``/``reconstruction`` of the image and ``class_logits``/
    ``probabilities`` ``(B, n_classes)``, and ``input``: the image the decoder
    reconstructs (randomly rotated and shifted in training when ``rotation`` or
    ``translation`` is above 0, a data augmentation for the classifier; the input itself
    otherwise).

    Loss: ``reconstruction_weight * (-log p(x|z)) + kl_weight * KL +
    classification_weight * CE(y, class_logits)``, with ``y`` the integer labels.
    """

    config_class = VAEClassifierConfig

    def __init__(self, config: VAEClassifierConfig | dict, **kwargs):
        super().__init__(config, **kwargs)
        c = self.config
        height, width = check_conv_shape(c.input_shape, c.filters)
        inputs, features = build_conv_stack(c.input_shape, c.filters)
        hidden = layers.Dense(c.dense_units, activation="relu", name="dense")(layers.Flatten(name="flatten")(features))
        z_mean = layers.Dense(c.latent_dim, name="z_mean", dtype="float32")(hidden)
        z_log_var = layers.Dense(c.latent_dim, name="z_log_var", dtype="float32")(hidden)
        self.encoder = keras.Model(inputs, [z_mean, z_log_var], name="encoder")
        self.sampling = Sampling(seed=c.seed, name="sampling")
        self.sampling.build([(None, c.latent_dim)] * 2)

        z = keras.Input((c.latent_dim,), name="z")
        grid = layers.Dense(height * width * c.filters[-1], activation="relu", name="dense")(z)
        grid = layers.Reshape((height, width, c.filters[-1]), name="grid")(grid)
        self.decoder = keras.Model(z, build_deconv_stack(grid, c.filters, c.input_shape[-1], None), name="decoder")

        z = keras.Input((c.latent_dim,), name="z")
        hidden = layers.Dense(c.classifier_units, activation="relu", name="hidden")(z)
        if c.dropout > 0:
            hidden = layers.Dropout(c.dropout, seed=c.seed, name="dropout")(hidden)
        self.classifier = keras.Model(
            z, layers.Dense(c.n_classes, name="class_logits", dtype="float32")(hidden), name="classifier"
        )

        # Two attributes rather than one pipeline of layers: a model saved before rotations
        # existed has the same layers as one configured without them, and still loads.
        self.rotate = (
            layers.RandomRotation(c.rotation, fill_mode="constant", seed=c.seed, name="rotate") if c.rotation > 0 else None
        )
        self.augment = (
            layers.RandomTranslation(c.translation, c.translation, fill_mode="constant", seed=c.seed, name="augment")
            if c.translation > 0
            else None
        )
        for augmentation in (a for a in (self.rotate, self.augment) if a is not None):
            augmentation.build((None, *c.input_shape))
            # Keras marks its image augmentation layers unjittable (they may run inside
            # tf.data), which left the whole training step of this model unjitted on JAX, op
            # by op: ~10x slower per step. In the model they run on the backend's own ops,
            # which JAX jits (the same random shifts; the contract tests run it on JAX).
            # TensorFlow keeps Keras's choice.
            augmentation.supports_jit = keras.backend.backend() == "jax"

        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.classification_tracker = keras.metrics.Mean(name="classification_loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.built = True

    def call(self, inputs, training=False):
        if training and self.rotate is not None:
            inputs = self.rotate(inputs, training=True)
        if training and self.augment is not None:
            inputs = self.augment(inputs, training=True)
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        logits = self.decoder(z, training=training)
        class_logits = self.classifier(z, training=training)
        return {
            "z_mean": z_mean,
            "z_log_var": z_log_var,
            "z": z,
            "logits": logits,
            "reconstruction": ops.sigmoid(logits),
            "class_logits": class_logits,
            "probabilities": ops.softmax(class_logits),
            # the (shifted, in training) image the decoder reconstructs; float32 as every output
            # (under mixed precision Keras hands call() its inputs in the compute dtype)
            "input": ops.cast(inputs, "float32"),
        }

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        c = self.config
        reconstruction = ops.mean(bernoulli_nll(y_pred["input"], y_pred["logits"]))
        kl = ops.mean(kl_divergence(y_pred["z_mean"], y_pred["z_log_var"]))
        classification = ops.mean(keras.losses.sparse_categorical_crossentropy(y, y_pred["class_logits"], from_logits=True))
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.classification_tracker.update_state(classification)
        self.accuracy_tracker.update_state(y, y_pred["probabilities"])
        return c.reconstruction_weight * reconstruction + c.kl_weight * kl + c.classification_weight * classification

    def encode(self, x, batch_size: int = 1024) -> np.ndarray:
        return self.encoder.predict(x, batch_size=batch_size, verbose=0)[0]
