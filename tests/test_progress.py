"""The live view of parallel fits (an ensemble's members, a sweep's trials): one line each,
fed by the workers' events."""

from __future__ import annotations

import io

import numpy as np
from rich.console import Console

from autoencoder_pipelines.training.progress import ProgressReport, ProgressView, reporters, reporting_to


class _Queue(list):
    def put_nowait(self, item):
        self.append(item)


def test_each_worker_reports_its_epochs_and_a_resume():
    queue = _Queue()
    report = ProgressReport(queue, line=2)
    report.on_epoch_begin(11)  # the fit starts after epoch 11: a backup was resumed
    report.on_epoch_end(11, {"val_loss": 5.0})
    report.on_epoch_begin(12)
    report.on_epoch_end(12, {"val_loss": 7.0})
    assert queue[0] == {"line": 2, "resumed": 11}
    assert [(e["epoch"], e["val_loss"], e["best"]) for e in queue[1:]] == [(12, 5.0, 5.0), (13, 7.0, 5.0)]


def _lines(output: io.StringIO, epochs: str) -> list[str]:
    return [line for line in output.getvalue().splitlines() if line.strip().startswith("│") and epochs in line]


def test_the_view_has_one_line_per_member_and_says_which_resumed(caplog):
    output = io.StringIO()
    console = Console(file=output, width=120, force_terminal=False)
    with (
        caplog.at_level("INFO", logger="autoencoder_pipelines"),
        ProgressView("Ensemble members", "member", "seed", console=console) as view,
    ):
        for member, seed in enumerate([42, 7, 8, 9]):
            view.add(member, str(seed), epochs=200)
        view.update({"line": 0, "resumed": 11})
        for _ in range(2):  # member 1 retried after its worker died: the trainer says it again
            view.update({"line": 1, "note": "restart 2/3 chosen"})
        for member in range(4):
            view.update({"line": member, "epoch": 12 + member, "val_loss": 3.0 + member, "best": 2.5, "elapsed": 60.0})
        view.finished(3, "done, 15 epochs")
    assert output.getvalue().endswith("┘\n")  # not a terminal: what follows starts on its own line
    lines = _lines(output, "/200")
    assert len(lines) == 4 and "Ensemble members" in output.getvalue()
    assert "12/200" in lines[0] and "resumed after epoch 11" in lines[0] and "42" in lines[0]
    assert "15/200" in lines[3] and "done, 15 epochs" in lines[3]
    assert lines[1].count("restart 2/3 chosen") == 1 and "resumed" not in lines[1]
    assert "Member 0 resumed after epoch 11." in caplog.text
    assert "Member 3 (seed 9): epoch 15/200, best val_loss 2.5; done, 15 epochs." in caplog.text  # the last state, logged


def test_a_fit_inside_reporting_to_reports_its_epochs_and_one_outside_does_not(tmp_path):
    """A sweep's trial runs the task's own nodes: the trainer adds the report of the block."""
    import keras

    from autoencoder_pipelines.training.config import TrainingConfig
    from autoencoder_pipelines.training.fit import fit_model

    assert reporters() == []
    queue = _Queue()
    x, y = np.zeros((8, 3), np.float32), np.zeros((8, 1), np.float32)
    config = TrainingConfig(seed=0, epochs=2, batch_size=4, learning_rate=1e-3, patience=2, backup_dir=tmp_path, verbose=0)

    def build():
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(loss="mse")
        return model

    with reporting_to(queue, "trial_0"):
        (report,) = reporters()
        assert report.queue is queue and report.line == "trial_0"
        fit_model(build, x, y, (x, y), config, "inside")
    assert [(e["line"], e["epoch"]) for e in queue] == [("trial_0", 1), ("trial_0", 2)]
    assert reporters() == []
    fit_model(build, x, y, (x, y), config, "outside")
    assert len(queue) == 2


class _Trial:
    def __init__(self, trial_id, config, last_result=None):
        self.trial_id, self.config, self.last_result = trial_id, config, last_result or {}


class _RayQueue(list):
    def qsize(self):
        return len(self)

    def get_nowait_batch(self, n):
        batch, self[:] = self[:n], self[n:]
        return batch


def test_the_sweep_view_survives_trials_that_fail_unstarted_end_without_a_result_or_are_unknown():
    """Ray Tune calls on_trial_error for a trial whose worker never started (no
    on_trial_start), and a trial can end without a last result: the sweep must go on."""
    from ray import cloudpickle

    from autoencoder_pipelines.pipelines.sweep.progress import ShowTrials

    output, queue = io.StringIO(), _RayQueue()
    with ProgressView("Sweep trials", "trial", "values", console=Console(file=output, width=160)) as view:
        trials = ShowTrials(view, queue, lambda values: 3)
        trials.on_trial_start(0, [], _Trial("t0", {"m.kl_weight": 1.0}))
        queue += [{"line": "t0", "epoch": 1, "val_loss": 2.0, "best": 2.0, "elapsed": 1.0}, {"line": "gone", "epoch": 1}]
        trials.on_step_end(1, [])  # the unknown trial's event is dropped, not raised
        trials.on_trial_complete(2, [], _Trial("t0", {"m.kl_weight": 1.0}))  # no last result
        trials.on_trial_error(3, [], _Trial("t1", {"m.kl_weight": 5.0}))  # never started
        copy = cloudpickle.loads(cloudpickle.dumps(trials))  # as Ray Tune pickles its callbacks: without the view
    assert copy.view is None and copy.queue == []
    assert view.lines["t0"].epoch == 1 and view.lines["t0"].notes == ["done"]
    assert view.lines["t1"].label == "kl_weight=5.0" and view.lines["t1"].notes == ["failed"]
