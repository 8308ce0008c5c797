"""The epoch backup: a killed run started again resumes where it stopped.

At the end of every epoch the weights, the optimizer state, the early-stopping state and
the history are written (:class:`EpochBackup`); early stopping's own progress is restored
with them (:class:`ResumableEarlyStopping`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import keras
import numpy as np

from autoencoder_pipelines.training import History

logger = logging.getLogger(__name__)


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """``EarlyStopping`` whose progress (best value, wait, best weights) can be restored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._resume: dict | None = None

    def get_monitor_value(self, logs):
        # Keras only warns when the monitored key is missing, and then never stops or restores.
        if (logs or {}).get(self.monitor) is None:
            raise KeyError(
                f"training.monitor: {self.monitor!r} is not a validation key of this model's history; "
                f"expected one of {sorted(k for k in (logs or {}) if k.startswith('val_'))}."
            )
        return super().get_monitor_value(logs)

    def state(self) -> dict:
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch}

    def resume_from(self, state: dict, best_weights: list[np.ndarray] | None) -> None:
        self._resume = {**state, "best_weights": best_weights}

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._resume is not None:
            self.wait = self._resume["wait"]
            self.best = self._resume["best"]
            self.best_epoch = self._resume["best_epoch"]
            self.best_weights = self._resume["best_weights"]


class EpochBackup(keras.callbacks.Callback):
    """Writes the training state at the end of every epoch, atomically.

    Files in ``directory``: ``latest.weights.h5`` (weights and optimizer variables),
    ``best.npz`` (the early-stopping best weights) and ``state.json`` (epochs done,
    early-stopping state, history). ``state.json`` is replaced last, by a rename, so a
    kill at any moment leaves the previous complete backup in place.
    """

    def __init__(self, directory: Path, early_stopping: ResumableEarlyStopping):
        super().__init__()
        self.directory = Path(directory)
        self.early_stopping = early_stopping
        self.history: History = {}

    @property
    def state_path(self) -> Path:
        return self.directory / "state.json"

    def restore(self, model: keras.Model) -> int:
        """Load a previous backup into ``model`` and the early stopping; return epochs done."""
        if not self.state_path.exists():
            return 0
        state = json.loads(self.state_path.read_text())
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(self.directory / state["weights"])
        best = None
        if state["best_weights"] is not None:
            with np.load(self.directory / state["best_weights"]) as archive:
                best = [archive[f"arr_{i}"] for i in range(len(archive.files))]
        self.early_stopping.resume_from(state["early_stopping"], best)
        self.history = {k: list(v) for k, v in state["history"].items()}
        logger.info("Resuming training from the backup in %s after epoch %d.", self.directory, state["epoch"])
        return int(state["epoch"])

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.directory.mkdir(parents=True, exist_ok=True)
        # Alternate between two slots so the files named by the current state.json are
        # never overwritten before the new state.json is in place.
        slot = epoch % 2
        weights = f"weights-{slot}.weights.h5"
        self.model.save_weights(self.directory / weights)
        best_name = None
        if self.early_stopping.best_weights is not None:
            best_name = f"best-{slot}.npz"
            np.savez(self.directory / best_name, *self.early_stopping.best_weights)
        state = {
            "epoch": epoch + 1,
            "weights": weights,
            "best_weights": best_name,
            "early_stopping": self.early_stopping.state(),
            "history": self.history,
        }
        tmp = self.state_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.state_path)
