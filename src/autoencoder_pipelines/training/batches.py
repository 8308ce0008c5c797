"""Epoch batches and per-epoch randomness: the batch order and the model's noise of every
epoch derived from ``(seed, epoch)``, so a resumed run ends exactly where an uninterrupted
one would."""

from __future__ import annotations

import math

import keras
import numpy as np

from autoencoder_pipelines.training.seeds import derived_seed


class EpochBatches(keras.utils.PyDataset):
    """Training arrays in shuffled batches, the order of each epoch derived from ``(seed, epoch)``.

    Keras' own ``shuffle=True`` does not continue across a resumed run: on TensorFlow,
    with a global seed set, it draws the same permutation in every epoch (the shuffle op
    is re-created with the same seed each epoch), and on JAX it draws from NumPy's global
    state, which a resumed process does not have. Here epoch ``e`` always sees the same
    order, whichever process trains it, and different epochs see different orders.
    :class:`EpochRandomness` sets the epoch.

    What ``fit`` is given is :meth:`for_fit`: on TensorFlow a ``tf.data`` pipeline of the
    same batches (Keras feeds a ``PyDataset`` through ``tf.data.Dataset.from_generator``,
    one Python call per batch, which costs the recurrent model much more CPU per window
    than the arrays themselves; figures in benchmarks/README.md), on JAX this ``PyDataset``.
    """

    def __init__(self, arrays: tuple, batch_size: int, seed: int):
        super().__init__()
        self.arrays = tuple(a for a in arrays if a is not None)
        self.batch_size = batch_size
        self.seed = seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self._order = np.random.default_rng([self.seed, epoch]).permutation(len(self.arrays[0]))

    def __len__(self) -> int:
        return math.ceil(len(self.arrays[0]) / self.batch_size)

    def _rows(self, index: int) -> np.ndarray:
        return np.sort(self._order[index * self.batch_size : (index + 1) * self.batch_size])

    def __getitem__(self, index: int) -> tuple:
        rows = self._rows(index)
        return tuple(a[rows] for a in self.arrays)

    def epoch_rows(self) -> np.ndarray:
        """The rows of every batch of the current epoch, batch after batch."""
        return np.concatenate([self._rows(i) for i in range(len(self))]).astype(np.int64)

    def for_fit(self):
        """What ``fit`` trains on: the ``tf.data`` pipeline on TensorFlow, else ``self``."""
        if keras.backend.backend() != "tensorflow":
            return self
        import tensorflow as tf  # noqa: PLC0415 - TensorFlow only on its own backend

        tensors = tuple(tf.constant(a) for a in self.arrays)
        # One Python call per epoch, when Keras starts the epoch's iterator (after
        # EpochRandomness has set the epoch); then slicing and gathers in tf.data.
        rows = tf.data.Dataset.from_tensors(0).map(
            lambda _: tf.ensure_shape(tf.numpy_function(self.epoch_rows, [], tf.int64, stateful=True), [None])
        )
        batches = rows.flat_map(lambda r: tf.data.Dataset.from_tensor_slices(r).batch(self.batch_size))
        batches = batches.map(lambda r: tuple(tf.gather(t, r) for t in tensors))
        return batches.apply(tf.data.experimental.assert_cardinality(len(self))).prefetch(2)


class EpochRandomness(keras.callbacks.Callback):
    """At the start of each epoch, derives its randomness from ``(seed, epoch)``: the batch
    order of :class:`EpochBatches` and the state of every random-number generator of the
    model (``keras.random.SeedGenerator``: sampling, dropout, noise layers), the ``i``-th
    from ``(seed, epoch, i)``.

    Keras does not save the generators' states with the weights, so without this a
    resumed run would draw other noise than the run it continues."""

    def __init__(self, seed: int, batches: EpochBatches):
        super().__init__()
        self.seed = seed
        self.batches = batches

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.set_epoch(epoch)
        states = [v for v in self.model.variables if v.path.endswith("seed_generator_state")]
        for i, state in enumerate(states):
            state.assign(np.array([derived_seed(self.seed, epoch, i), 0]).astype(state.dtype))
