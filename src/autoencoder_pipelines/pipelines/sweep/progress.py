"""The sweep's trials in the live view (``training.progress.ProgressView``): a line per
trial, added when Ray Tune starts it, fed with the epochs its worker reports."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ray import tune

from autoencoder_pipelines.training.progress import ProgressView

logger = logging.getLogger(__name__)


class ShowTrials(tune.Callback):
    """A Ray Tune callback, run in the driver's loop: each trial's line (its values and
    epochs, ``epochs_of(values)``), the epochs from ``queue``, and how it ended."""

    def __init__(self, view: ProgressView, queue, epochs_of: Callable[[dict], int]):
        self.view: ProgressView | None = view
        self.queue, self.epochs_of = queue, epochs_of

    def __getstate__(self) -> dict:
        # Ray Tune pickles its run settings, callbacks included (tuner.pkl, to restore a
        # sweep); the live view belongs to this process and stays out (a restored copy shows none).
        return {**self.__dict__, "view": None}

    def on_trial_start(self, iteration: int, trials: list, trial, **info: Any) -> None:
        if self.view is None:
            return
        values = ", ".join(f"{path.rsplit('.', 1)[-1]}={value}" for path, value in trial.config.items())
        self.view.add(trial.trial_id, values, self.epochs_of(trial.config))

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        self._drain()

    def on_trial_complete(self, iteration: int, trials: list, trial, **info: Any) -> None:
        if self.view is None:
            return
        self._drain()
        epochs = (trial.last_result or {}).get("epochs_trained")
        self._finished(trial, "done" if epochs is None else f"done, {epochs} epochs")

    def on_trial_error(self, iteration: int, trials: list, trial, **info: Any) -> None:
        if self.view is not None:
            self._drain()
            self._finished(trial, "failed")
        logger.warning("Sweep trial %s (%s) failed; its error is in the trials table.", trial.trial_id, trial.config)

    def _finished(self, trial, note: str) -> None:
        if trial.trial_id not in self.view.lines:  # a trial whose worker failed to start was never started
            self.on_trial_start(0, [], trial)
        self.view.finished(trial.trial_id, note)

    def _drain(self) -> None:
        if self.view is None:
            return
        for event in self.queue.get_nowait_batch(self.queue.qsize()):
            if event["line"] in self.view.lines:
                self.view.update(event)
            else:
                logger.debug("Progress of %s, a trial the view does not show: %s", event["line"], event)
