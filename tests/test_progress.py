"""The live view of an ensemble's members: one line per member, fed by the workers' events."""

from __future__ import annotations

import io

from rich.console import Console

from autoencoder_pipelines.training.progress import ProgressReport, ProgressView


class _Queue(list):
    def put_nowait(self, item):
        self.append(item)


def test_each_worker_reports_its_epochs_and_a_resume():
    queue = _Queue()
    report = ProgressReport(queue, member=2)
    report.on_epoch_begin(11)  # the fit starts after epoch 11: a backup was resumed
    report.on_epoch_end(11, {"val_loss": 5.0})
    report.on_epoch_begin(12)
    report.on_epoch_end(12, {"val_loss": 7.0})
    assert queue[0] == {"member": 2, "resumed": 11}
    assert [(e["epoch"], e["val_loss"], e["best"]) for e in queue[1:]] == [(12, 5.0, 5.0), (13, 7.0, 5.0)]


def test_the_view_has_one_line_per_member_and_says_which_resumed(caplog):
    output = io.StringIO()
    console = Console(file=output, width=120, force_terminal=False)
    with (
        caplog.at_level("INFO", logger="autoencoder_pipelines"),
        ProgressView([42, 7, 8, 9], epochs=200, console=console) as view,
    ):
        view.update({"member": 0, "resumed": 11})
        for member in range(4):
            view.update({"member": member, "epoch": 12 + member, "val_loss": 3.0 + member, "best": 2.5, "elapsed": 60.0})
        view.finished(3, epochs_trained=15)
    table = output.getvalue()
    lines = [line for line in table.splitlines() if line.strip().startswith("│") and "/200" in line]
    assert len(lines) == 4
    assert "12/200" in lines[0] and "resumed after epoch 11" in lines[0] and "42" in lines[0]
    assert "15/200" in lines[3] and "done, 15 epochs" in lines[3]
    assert "Member 0 resumed after epoch 11." in caplog.text
