"""Small single-purpose Keras layers shared by the models."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="autoencoder_pipelines")
class Sampling(keras.layers.Layer):
    """Reparameterisation trick: ``z = mu + exp(log_var / 2) * eps``, ``eps ~ N(0, I)``.

    Drawing ``eps`` outside the network keeps ``z`` differentiable with respect to
    ``mu`` and ``log_var`` (Kingma & Welling 2014). The noise comes from a seeded
    ``SeedGenerator``, so a seeded run draws the same samples.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
