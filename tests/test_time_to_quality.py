"""The time-to-quality harness against the peer (``benchmarks/time_to_quality.py``), in
quick mode on tiny sizes: the peer's example and our ``kedro run`` each run as a timed
process, and each side's figures are its own run's. Nothing here asserts a speed."""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import write_cmapss, write_mnist
from tests.pipelines.kedro_project import REPO

sys.path.insert(0, str(REPO / "benchmarks"))

pytest.importorskip("rapidae", reason="the peer (rapidae==0.0.5, in the dev extra) is not installed")


def test_time_to_quality_quick_mode_on_tiny_sizes_times_each_side_and_reads_its_figures(tmp_path, monkeypatch):
    """The end-to-end mode: the peer's RUL example (stopped after two epochs) and our
    ``kedro run --pipeline=rul_vae`` in ``conf/test``, plus one quicker configuration, each a
    timed process; the figures are each run's own."""
    import time_to_quality

    from tests.pipelines.kedro_project import make_project

    raw = write_cmapss(tmp_path / "cmapss", n_train=12, n_test=6)
    (tmp_path / "project").mkdir()
    project = make_project(tmp_path / "project", monkeypatch, CMAPSS_DATA_DIR=str(raw))
    table, raw_json = tmp_path / "ttq.md", tmp_path / "ttq.json"
    report = time_to_quality.main(
        [
            "--env",
            "test",
            "--project",
            str(project),
            "--quicker",
            "one-epoch:rul_vae.training.epochs=1",
            "--peer-max-epochs",
            "2",
            "--peer-python",
            sys.executable,
            "--logs",
            str(tmp_path / "logs"),
            "--markdown",
            str(table),
            "--json",
            str(raw_json),
        ]
    )

    assert json.loads(raw_json.read_text()) == json.loads(json.dumps(report))
    peer, ours, quicker = report["runs"]
    assert [run["configuration"] for run in report["runs"]] == ["the peer's RUL example", "conf/test", "one-epoch"]
    for run in report["runs"]:
        assert run["wall_s"] > 0 and run["machine_cpu_s"] > 0
        assert run["test_rmse"] > 0 and run["test_score"] > 0 and run["val_rmse"] > 0
    assert peer["epochs"] == 2 and peer["test_engines"] == 6  # stopped where told; the last window of each test engine
    assert quicker["epochs"] == 1 and quicker["overrides"] == ["rul_vae.training.epochs=1"]
    # ours' figures are its own run's: the metrics file of the newest version in the project
    newest = sorted((project / "data/08_reporting/rul_vae/FD001/metrics.json").iterdir())[-1]
    written = json.loads((newest / "metrics.json").read_text())
    assert quicker["test_rmse"] == pytest.approx(written["rmse"]) and quicker["epochs"] == written["epochs_trained"]
    assert ours["test_rmse"] != quicker["test_rmse"]
    peer_row = next(row for row in report["summary"] if row["side"] == "peer")
    assert peer_row["peer_time_over_this"] == 1.0
    matching = [r for r in report["summary"] if r["side"] == "ours" and r["val_rmse"] <= peer_row["val_rmse"]]
    assert report["quickest_matching"] == (min(matching, key=lambda r: r["wall_s"])["configuration"] if matching else None)
    lines = table.read_text().splitlines()
    assert sum(line.startswith("| ") for line in lines) == 1 + 3  # header and one row per configuration
    assert any(line.startswith("| ours: one-epoch") for line in lines)


@pytest.mark.parametrize("task", ["denoising_ae", "sparse_ae", "contractive_ae"])
def test_time_to_quality_on_a_dense_mnist_model_compares_both_on_our_validation_images(task, tmp_path, monkeypatch):
    """``--task`` on the dense MNIST models: the peer's example (one epoch) trained on our
    training images, and ``kedro run --pipeline=<task>`` in ``conf/test``; each side's figures
    are its own, and both are scored on the same validation images."""
    import numpy as np
    import time_to_quality

    from tests.pipelines.kedro_project import make_project

    raw = write_mnist(tmp_path / "mnist", n_train=200, n_test=60)
    (tmp_path / "project").mkdir()
    project = make_project(tmp_path / "project", monkeypatch, MNIST_DATA_DIR=str(raw))
    logs, table = tmp_path / "logs", tmp_path / "ttq.md"
    report = time_to_quality.main(
        ["--task", task, "--env", "test", "--project", str(project), "--peer-max-epochs", "1"]
        + ["--peer-python", sys.executable, "--logs", str(logs), "--markdown", str(table)]
    )

    peer, ours = report["runs"]
    assert (peer["side"], ours["configuration"], report["task"]) == ("peer", "conf/test", task)
    assert peer["epochs"] == 1 and peer["test_images"] == 60
    split = np.load(logs / "split.npz")
    assert len(split["train"]) + len(split["validation"]) == 200 and not set(split["train"]) & set(split["validation"])
    # the peer was scored on our validation images: as many as our run held out
    assert peer["val_images"] == ours["val_images"] == len(split["validation"])
    written = json.loads(next((project / f"data/08_reporting/{task}/metrics.json").glob("*/metrics.json")).read_text())
    test = written["contractive"] if task == "contractive_ae" else written
    assert ours["test_mse"] == pytest.approx(test["mse"]) and ours["val_mse"] > 0 and peer["val_mse"] > 0
    extra = {"sparse_ae": "mean_activation", "contractive_ae": "jacobian_norm"}.get(task)
    if extra:
        assert 0 < peer[extra] and ours[extra] == pytest.approx(test[extra])
    lines = table.read_text().splitlines()
    assert lines[0].startswith(f"`{task}`") and sum(line.startswith("| ") for line in lines) == 1 + 2


def test_a_quicker_configuration_must_name_dotted_parameters():
    import argparse

    import time_to_quality

    assert time_to_quality.parse_quicker("one:rul_vae.training.ensemble.members=1,rul_vae.training.epochs=2") == (
        "one",
        ["rul_vae.training.ensemble.members=1", "rul_vae.training.epochs=2"],
    )
    for bad in ("members=1=rul_vae.training.ensemble.members=1", "one:", "one:members=1", ":rul_vae.a=1"):
        with pytest.raises(argparse.ArgumentTypeError, match="NAME:KEY=VALUE"):
            time_to_quality.parse_quicker(bad)
