"""Small single-purpose Keras layers shared by the models."""

from __future__ import annotations

import contextlib

import keras
from keras import ops
from keras.src.backend.common import global_state  # the object sharing scope's state (no public API)

# What keras.saving.load_model's object sharing scope keeps: serialised objects by id().
_OBJECT_SHARING = ("shared_objects/id_to_obj_map", "shared_objects/id_to_config_map")


@contextlib.contextmanager
def _outside_object_sharing():
    saved = [global_state.get_global_attribute(key) for key in _OBJECT_SHARING]
    for key in _OBJECT_SHARING:
        global_state.set_global_attribute(key, None)
    try:
        yield
    finally:
        for key, value in zip(_OBJECT_SHARING, saved, strict=True):
            global_state.set_global_attribute(key, value)


def bidirectional_lstm(units: int, *, name: str, **lstm_kwargs) -> keras.layers.Bidirectional:
    """A ``Bidirectional(LSTM)`` built outside Keras's object sharing scope.

    ``Bidirectional`` makes its forward LSTM by serialising the LSTM it is given and
    deserialising the result. While a ``.keras`` file loads, Keras matches serialised
    objects by ``id()`` (its object sharing scope), so when that LSTM sits at the address
    of an earlier, freed one, the "clone" comes back as the earlier wrapper's layer: loading
    failed with "Forward layer and backward layer should have different `go_backwards`
    value" or "... the same value for attribute `return_sequences`" (Keras 3.15, depending
    on the allocator; a model holds two of these, an ensemble more). These layers are
    never shared objects, so they are built with the scope's maps set aside, and restored.
    The backward LSTM is given, not cloned. Weights are saved under the same paths.
    """
    with _outside_object_sharing():
        return keras.layers.Bidirectional(
            keras.layers.LSTM(units, **lstm_kwargs),
            backward_layer=keras.layers.LSTM(units, go_backwards=True, **lstm_kwargs),
            name=name,
        )


@keras.saving.register_keras_serializable(package="autoencoder_pipelines")
class TimeDistributed(keras.layers.TimeDistributed):
    """``TimeDistributed(Dense)`` computed as one ``Dense`` over the last axis of ``(B, T, U)``.

    Keras' ``TimeDistributed`` with a static number of steps calls its layer once per step
    on a slice and stacks the results; on TensorFlow the gradient of each slice is a full
    ``(T, B, U)`` tensor, so a long decoder holds gigabytes and spends much more CPU than the
    same model without the wrapper (figures in benchmarks/README.md). A ``Dense`` is
    the same function of every step, so it is applied to all steps at once. The wrapper
    stays, with its ``layer`` attribute and Keras' class name (Keras saves a functional
    model's layers under their class name in snake case), so the weights keep their paths
    and models saved with Keras' ``TimeDistributed`` load unchanged.
    """

    def __init__(self, layer: keras.layers.Dense, **kwargs):
        if not isinstance(layer, keras.layers.Dense):
            raise TypeError(f"TimeDistributed (autoencoder_pipelines) wraps a Dense layer, got {type(layer).__name__}.")
        super().__init__(layer, **kwargs)

    def call(self, inputs, training=None, mask=None):
        return self.layer(inputs)


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


@keras.saving.register_keras_serializable(package="autoencoder_pipelines")
class VectorQuantizer(keras.layers.Layer):
    """Nearest-neighbour lookup in a learned codebook (VQ-VAE, van den Oord et al. 2017).

    Every vector of the last axis of the input is replaced by its closest codebook
    vector (squared Euclidean distance). Returns ``(quantized, codes)``: ``quantized``
    has the input's shape and carries gradients to the codebook (for the codebook
    loss); the straight-through estimator is applied by the model, which feeds
    ``z_e + stop_gradient(quantized - z_e)`` to the decoder.

    Args:
        num_embeddings: codebook size K.
        embedding_dim: size D of each code; must equal the input's last axis.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.seed = seed

    def build(self, input_shape):
        if input_shape[-1] != self.embedding_dim:
            raise ValueError(
                f"VectorQuantizer: inputs have {input_shape[-1]} channels, expected embedding_dim={self.embedding_dim}."
            )
        self.embeddings = self.add_weight(
            shape=(self.num_embeddings, self.embedding_dim),
            initializer=keras.initializers.RandomUniform(-1.0, 1.0, seed=self.seed),
            name="embeddings",
        )

    def codes(self, inputs):
        """Index of the nearest codebook vector for every input vector, shape ``inputs.shape[:-1]``."""
        flat = ops.reshape(inputs, (-1, self.embedding_dim))
        # ||a - e||^2 = ||a||^2 - 2 a.e + ||e||^2, for all pairs at once.
        distances = (
            ops.sum(ops.square(flat), axis=1, keepdims=True)
            - 2.0 * ops.matmul(flat, ops.transpose(ops.cast(self.embeddings, flat.dtype)))
            + ops.sum(ops.square(ops.cast(self.embeddings, flat.dtype)), axis=1)
        )
        return ops.reshape(ops.argmin(distances, axis=1), ops.shape(inputs)[:-1])

    def call(self, inputs):
        codes = self.codes(inputs)
        quantized = ops.take(ops.cast(self.embeddings, inputs.dtype), codes, axis=0)
        return quantized, codes

    def compute_output_shape(self, input_shape):
        return input_shape, input_shape[:-1]

    def get_config(self):
        return {
            **super().get_config(),
            "num_embeddings": self.num_embeddings,
            "embedding_dim": self.embedding_dim,
            "seed": self.seed,
        }
