"""What an ensemble's members are doing, shown in the process that waits for them.

Each member, in its Ray worker, reports every epoch through a Ray queue
(:class:`ProgressReport`, a Keras callback); the driver drains the queue and draws one
live table (:class:`ProgressView`, rich): a line per member with its epoch, validation
loss, best so far and elapsed time, and "resumed after epoch N" for a member that
continued from its backup. The same events go to the log, so a terminal that is not
interactive (CI, Airflow) keeps them too.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import keras
from rich.console import Console
from rich.live import Live
from rich.table import Table

logger = logging.getLogger(__name__)


class ProgressReport(keras.callbacks.Callback):
    """Puts ``{"member", "epoch", "val_loss", "best", "elapsed"}`` on ``queue`` after every
    epoch, and ``{"member", "resumed": n}`` when the fit starts after epoch ``n`` (a backup
    resumed). ``queue`` is anything with ``put_nowait`` (a ``ray.util.queue.Queue``)."""

    def __init__(self, queue, member: int):
        super().__init__()
        self.queue = queue
        self.member = member
        self._started: float | None = None
        self._best = float("inf")

    def on_epoch_begin(self, epoch, logs=None):
        if self._started is None:
            self._started = time.monotonic()
            if epoch > 0:
                self.queue.put_nowait({"member": self.member, "resumed": epoch})

    def on_epoch_end(self, epoch, logs=None):
        val_loss = float((logs or {}).get("val_loss", float("nan")))
        self._best = min(self._best, val_loss)
        self.queue.put_nowait(
            {
                "member": self.member,
                "epoch": epoch + 1,
                "val_loss": val_loss,
                "best": self._best,
                "elapsed": time.monotonic() - self._started,
            }
        )


@dataclass
class _Line:
    seed: int
    epoch: int = 0
    val_loss: float = float("nan")
    best: float = float("nan")
    elapsed: float = 0.0
    notes: list[str] = field(default_factory=list)


class ProgressView:
    """The live table of an ensemble's members: ``with ProgressView(seeds, epochs) as view:
    view.update(event)``. Resumes are also logged (``Member 0 resumed after epoch 11``)."""

    def __init__(self, seeds: list[int], epochs: int, console: Console | None = None):
        self.lines = [_Line(seed) for seed in seeds]
        self.epochs = epochs
        self._live = Live(self.table(), console=console or Console(), refresh_per_second=2, transient=False)

    def __enter__(self) -> ProgressView:
        self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._live.update(self.table())
        self._live.__exit__(*exc)

    def update(self, event: dict[str, Any]) -> None:
        line = self.lines[event["member"]]
        if "resumed" in event:
            note = f"resumed after epoch {event['resumed']}"
            line.notes.append(note)
            logger.info("Member %d %s.", event["member"], note)
        else:
            line.epoch, line.val_loss, line.best, line.elapsed = (
                event["epoch"],
                event["val_loss"],
                event["best"],
                event["elapsed"],
            )
        self._live.update(self.table())

    def finished(self, member: int, epochs_trained: int) -> None:
        self.lines[member].notes.append(f"done, {epochs_trained} epochs")
        self._live.update(self.table())

    def table(self) -> Table:
        table = Table(title="Ensemble members", title_justify="left")
        for column in ("member", "seed", "epoch", "val_loss", "best", "elapsed", ""):
            table.add_column(column, justify="left" if column == "" else "right")
        for i, line in enumerate(self.lines):
            table.add_row(
                str(i),
                str(line.seed),
                f"{line.epoch}/{self.epochs}",
                f"{line.val_loss:.4g}",
                f"{line.best:.4g}",
                f"{line.elapsed:.0f} s",
                "; ".join(line.notes),
            )
        return table
