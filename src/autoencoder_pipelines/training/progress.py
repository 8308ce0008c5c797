"""What the parallel work is doing (an ensemble's members, a sweep's trials), shown in the
process that waits for it.

Each fit, in its Ray worker, reports every epoch through a Ray queue
(:class:`ProgressReport`, a Keras callback); the driver drains the queue and draws one
live table (:class:`ProgressView`, rich): a line per member or trial with its epoch,
validation loss, best so far and elapsed time, and "resumed after epoch N" for one that
continued from the backup of a killed run. The same events go to the log, so a terminal that is not
interactive (CI, Airflow) keeps them too.

An ensemble's members get their :class:`ProgressReport` from the trainer that starts
them; a sweep's trial runs the task's own Kedro nodes, which know nothing of the sweep, so
the trial wraps its run in :func:`reporting_to` and the trainer adds the report
(:func:`reporters`).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

import keras
from rich.console import Console
from rich.live import Live
from rich.table import Table

logger = logging.getLogger(__name__)

_REPORTING: contextvars.ContextVar[tuple[Any, Hashable] | None] = contextvars.ContextVar(
    "autoencoder_pipelines_progress", default=None
)


@contextlib.contextmanager
def reporting_to(queue, line: Hashable) -> Iterator[None]:
    """Every model the trainer fits in this block also reports its epochs to ``queue`` as
    ``line`` (:class:`ProgressReport`)."""
    token = _REPORTING.set((queue, line))
    try:
        yield
    finally:
        _REPORTING.reset(token)


def reporters() -> list[keras.callbacks.Callback]:
    """The :class:`ProgressReport` of the enclosing :func:`reporting_to` block, if any."""
    reporting = _REPORTING.get()
    return [] if reporting is None else [ProgressReport(*reporting)]


class ProgressReport(keras.callbacks.Callback):
    """Puts ``{"line", "epoch", "val_loss", "best", "elapsed"}`` on ``queue`` after every
    epoch, and ``{"line", "resumed": n}`` when the fit starts after epoch ``n`` (a backup
    of a killed run resumed); ``line`` names the member or trial. ``queue`` is anything
    with ``put_nowait`` (a ``ray.util.queue.Queue``)."""

    def __init__(self, queue, line: Hashable):
        super().__init__()
        self.queue = queue
        self.line = line
        self._started: float | None = None
        self._best = float("inf")
        self._continues_after = 0

    def continues(self, after_epoch: int, note: str) -> None:
        """The fit goes on after ``after_epoch`` by design, not after a kill (the winning
        restart trains on from its first epochs): said with ``note``
        (``{"line", "note"}``), and a start there is no resume."""
        self._continues_after = after_epoch
        self.queue.put_nowait({"line": self.line, "note": note})

    def on_epoch_begin(self, epoch, logs=None):
        if self._started is None:
            self._started = time.monotonic()
            if epoch > self._continues_after:
                self.queue.put_nowait({"line": self.line, "resumed": epoch})

    def on_epoch_end(self, epoch, logs=None):
        val_loss = float((logs or {}).get("val_loss", float("nan")))
        self._best = min(self._best, val_loss)
        self.queue.put_nowait(
            {
                "line": self.line,
                "epoch": epoch + 1,
                "val_loss": val_loss,
                "best": self._best,
                "elapsed": time.monotonic() - self._started,
            }
        )


@dataclass
class _Line:
    label: str
    epochs: int
    epoch: int = 0
    val_loss: float = float("nan")
    best: float = float("nan")
    elapsed: float = 0.0
    notes: list[str] = field(default_factory=list)


class ProgressView:
    """The live table of parallel fits, a line each:
    ``with ProgressView("Ensemble members", "member", "seed") as view:``, then
    ``view.add(0, "42", epochs=200)`` per line and ``view.update(event)`` per event of
    :class:`ProgressReport`. Resumes are also logged (``Member 0 resumed after epoch 11.``),
    and each line's last state when the view closes."""

    def __init__(self, title: str, unit: str, label: str, console: Console | None = None):
        self.title, self.unit, self.label = title, unit, label
        self.lines: dict[Hashable, _Line] = {}
        self._live = Live(self.table(), console=console or Console(), refresh_per_second=2, transient=False)

    def __enter__(self) -> ProgressView:
        self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._live.update(self.table())
        self._live.__exit__(*exc)
        if not self._live.console.is_terminal:
            self._live.console.line()  # a log or pipe: the next line starts on its own
        for key, line in self.lines.items():  # the table's last state, for a log without the terminal
            logger.info(
                "%s %s (%s %s): epoch %d/%d, best val_loss %.4g%s.",
                self.unit.capitalize(),
                key,
                self.label,
                line.label,
                line.epoch,
                line.epochs,
                line.best,
                "".join(f"; {note}" for note in line.notes),
            )

    def add(self, key: Hashable, label: str, epochs: int) -> None:
        self.lines[key] = _Line(label, epochs)
        self._live.update(self.table())

    def update(self, event: dict[str, Any]) -> None:
        key = event["line"]
        line = self.lines[key]
        if "resumed" in event:
            note = f"resumed after epoch {event['resumed']}"
            line.notes.append(note)
            logger.info("%s %s %s.", self.unit.capitalize(), key, note)
        elif "note" in event:
            if event["note"] not in line.notes:  # a retried member says it again
                line.notes.append(event["note"])
        else:
            line.epoch, line.val_loss, line.best, line.elapsed = (
                event["epoch"],
                event["val_loss"],
                event["best"],
                event["elapsed"],
            )
        self._live.update(self.table())

    def finished(self, key: Hashable, note: str) -> None:
        self.lines[key].notes.append(note)
        self._live.update(self.table())

    def table(self) -> Table:
        table = Table(title=self.title, title_justify="left")
        for column in (self.unit, self.label, "epoch", "val_loss", "best", "elapsed", ""):
            table.add_column(column, justify="left" if column in ("", self.label) else "right")
        for key, line in self.lines.items():
            table.add_row(
                str(key),
                line.label,
                f"{line.epoch}/{line.epochs}",
                f"{line.val_loss:.4g}",
                f"{line.best:.4g}",
                f"{line.elapsed:.0f} s",
                "; ".join(line.notes),
            )
        return table
