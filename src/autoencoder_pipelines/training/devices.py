"""Where a model trains: one GPU, several GPUs or the CPU, with no code change."""

from __future__ import annotations

import contextlib
import logging

import keras

logger = logging.getLogger(__name__)


class Devices:
    """Where a model trains, chosen once per run: the scope its model is built in and
    the scope ``fit`` runs in.

    TensorFlow: ``MirroredStrategy`` over all visible GPUs when there are several, else
    the default strategy. JAX: ``keras.distribution.DataParallel`` over all GPUs when
    there are several (the batch is split across them), else none.
    """

    def __init__(self) -> None:
        self.backend = keras.backend.backend()
        self._strategy = None
        self._distribution = None
        if self.backend == "tensorflow":
            import tensorflow as tf  # noqa: PLC0415

            gpus = tf.config.list_logical_devices("GPU")
            if len(gpus) > 1:
                logger.info("Training on %d GPUs with MirroredStrategy.", len(gpus))
                self._strategy = tf.distribute.MirroredStrategy()
            else:
                logger.info("Training on %s.", gpus[0].name if gpus else "the CPU")
                self._strategy = tf.distribute.get_strategy()
        elif self.backend == "jax":
            gpus = [d for d in keras.distribution.list_devices() if d.startswith("gpu")]  # e.g. "gpu:0"
            if len(gpus) > 1:
                logger.info("Training on %d GPUs with keras.distribution.DataParallel.", len(gpus))
                self._distribution = keras.distribution.DataParallel(devices=gpus)
            else:
                logger.info("Training on %s.", gpus[0] if gpus else "the CPU")

    def build_scope(self):
        """Variables created here are placed (and mirrored) across the devices."""
        if self._strategy is not None:
            return self._strategy.scope()
        return self.fit_scope()

    def fit_scope(self):
        """``fit`` splits each batch across the devices in here (JAX's distribution is global)."""
        if self._distribution is not None:
            return self._distribution.scope()
        return contextlib.nullcontext()
