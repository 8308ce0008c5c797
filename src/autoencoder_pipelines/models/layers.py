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
    has the input's shape, always from the codebook as it was before this call; the
    straight-through estimator is applied by the model, which feeds
    ``z_e + stop_gradient(quantized - z_e)`` to the decoder.

    How the codebook learns (``codebook_update``):

    - ``"gradient"``: the codebook is a trainable weight; the model's codebook loss
      ``||sg[z_e] - z_q||^2`` moves the chosen codes towards the encoder outputs.
    - ``"ema"``: each training call moves every code to an exponential moving average of
      the encoder outputs assigned to it (the paper's appendix A.1; Razavi et al. 2019):
      counts ``N_k <- decay N_k + (1 - decay) n_k``, sums ``m_k <- decay m_k + (1 - decay)
      sum_i z_i``, code ``e_k = m_k / N_k`` (Laplace-smoothed counts). The codebook is then
      a non-trainable weight and the codebook loss carries no gradient.

    ``dead_code_threshold > 0`` (``"ema"`` only) restarts dead codes (Dhariwal et al. 2020,
    Jukebox): a code whose moving count ``N_k`` falls below the threshold (in encoder
    vectors per batch) is set to an encoder output of the batch drawn at random, with its
    count set to the threshold, so it survives only if it is used. Without restarts a
    code that never wins a vector never moves; on MNIST four in five of 512 did not.

    Args:
        num_embeddings: codebook size K.
        embedding_dim: size D of each code; must equal the input's last axis.
        seed: seeds the codebook's initialiser and the restarts' draws.
        codebook_update: ``"gradient"`` or ``"ema"``.
        decay: of the moving averages (``"ema"``).
        epsilon: Laplace smoothing of the counts (``"ema"``), so ``e_k`` stays finite.
        dead_code_threshold: moving count below which a code is restarted; 0 never.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        seed: int | None = None,
        codebook_update: str = "gradient",
        decay: float = 0.99,
        epsilon: float = 1e-5,
        dead_code_threshold: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if codebook_update not in ("gradient", "ema"):
            raise ValueError(f"VectorQuantizer: codebook_update must be 'gradient' or 'ema', got {codebook_update!r}.")
        if not 0.0 < decay < 1.0:
            raise ValueError(f"VectorQuantizer: decay must be in (0, 1), got {decay}.")
        if not epsilon > 0:
            # an unused code's moving count decays into float32's denormals after ~10^4 steps at 0.99,
            # and to 0 where denormals are flushed: m_k / N_k would be 0 / 0
            raise ValueError(f"VectorQuantizer: epsilon must be > 0 (it keeps m_k / N_k finite), got {epsilon}.")
        if dead_code_threshold < 0 or (dead_code_threshold > 0 and codebook_update != "ema"):
            raise ValueError(
                f"VectorQuantizer: dead_code_threshold={dead_code_threshold} needs codebook_update='ema' "
                f"and a value >= 0 (a restart rewrites the codebook, which the optimiser owns under 'gradient')."
            )
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.seed = seed
        self.codebook_update = codebook_update
        self.decay = decay
        self.epsilon = epsilon
        self.dead_code_threshold = dead_code_threshold
        self.restart_seed = keras.random.SeedGenerator(seed) if dead_code_threshold > 0 else None

    def build(self, input_shape):
        if input_shape[-1] != self.embedding_dim:
            raise ValueError(
                f"VectorQuantizer: inputs have {input_shape[-1]} channels, expected embedding_dim={self.embedding_dim}."
            )
        ema = self.codebook_update == "ema"
        self.embeddings = self.add_weight(
            shape=(self.num_embeddings, self.embedding_dim),
            initializer=keras.initializers.RandomUniform(-1.0, 1.0, seed=self.seed),
            name="embeddings",
            trainable=not ema,
        )
        if ema:
            # One vector per code at the start: e_k = m_k / N_k is the initial codebook.
            self.cluster_size = self.add_weight(
                shape=(self.num_embeddings,), initializer="ones", name="cluster_size", trainable=False
            )
            self.embedding_sum = self.add_weight(
                shape=(self.num_embeddings, self.embedding_dim),
                initializer="zeros",
                name="embedding_sum",
                trainable=False,
            )
            # a copy: on JAX two variables sharing one buffer cannot both be donated to a step
            self.embedding_sum.assign(ops.copy(self.embeddings))

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

    def call(self, inputs, training=False):
        codes = self.codes(inputs)
        quantized = ops.take(ops.cast(self.embeddings, inputs.dtype), codes, axis=0)
        if training and self.codebook_update == "ema":
            self._update_codebook(ops.stop_gradient(inputs), codes)
        return quantized, codes

    def _update_codebook(self, inputs, codes):
        flat = ops.cast(ops.reshape(inputs, (-1, self.embedding_dim)), "float32")
        assigned = ops.one_hot(ops.reshape(codes, (-1,)), self.num_embeddings, dtype="float32")  # (N, K)
        d = self.decay
        cluster_size = d * self.cluster_size + (1.0 - d) * ops.sum(assigned, axis=0)
        embedding_sum = d * self.embedding_sum + (1.0 - d) * ops.matmul(ops.transpose(assigned), flat)
        total = ops.sum(cluster_size)
        smoothed = (cluster_size + self.epsilon) / (total + self.num_embeddings * self.epsilon) * total
        embeddings = embedding_sum / smoothed[:, None]
        if self.dead_code_threshold > 0:
            n = ops.shape(flat)[0]
            draws = keras.random.uniform((self.num_embeddings,), seed=self.restart_seed)
            rows = ops.minimum(ops.cast(draws * ops.cast(n, "float32"), "int32"), n - 1)
            fresh = ops.take(flat, rows, axis=0)
            dead = cluster_size < self.dead_code_threshold
            embeddings = ops.where(dead[:, None], fresh, embeddings)
            embedding_sum = ops.where(dead[:, None], self.dead_code_threshold * fresh, embedding_sum)
            cluster_size = ops.where(dead, self.dead_code_threshold, cluster_size)
        self.cluster_size.assign(cluster_size)
        self.embedding_sum.assign(embedding_sum)
        self.embeddings.assign(embeddings)

    def compute_output_shape(self, input_shape):
        return input_shape, input_shape[:-1]

    def get_config(self):
        return {
            **super().get_config(),
            "num_embeddings": self.num_embeddings,
            "embedding_dim": self.embedding_dim,
            "seed": self.seed,
            "codebook_update": self.codebook_update,
            "decay": self.decay,
            "epsilon": self.epsilon,
            "dead_code_threshold": self.dead_code_threshold,
        }
