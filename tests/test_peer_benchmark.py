"""The speed harness against the peer (``benchmarks/peer_benchmark.py``), in quick mode on
tiny sizes: both sides train and are timed in their own processes, and the table and
the JSON it writes are well formed. Nothing here asserts a speed."""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import write_cmapss
from tests.pipelines.kedro_project import REPO, tracking_database

sys.path.insert(0, str(REPO / "benchmarks"))

pytest.importorskip("rapidae", reason="the peer (rapidae==0.0.5, in the dev extra) is not installed")


def test_quick_mode_on_tiny_sizes_writes_a_well_formed_table(tmp_path, monkeypatch):
    import peer_benchmark

    monkeypatch.setenv("CMAPSS_DATA_DIR", str(write_cmapss(tmp_path / "cmapss", n_train=12, n_test=6)))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_database(tmp_path))  # not the repository's mlflow.db
    table, raw = tmp_path / "peer.md", tmp_path / "peer.json"
    report = peer_benchmark.main(
        [
            "--quick",
            "--tiny",
            "--models",
            "vae/bf16",  # one model (each side trains in its own process); a /bf16 row, its dtypes named
            "--stages",
            "cmapss_preprocessing",
            "--peer-python",
            sys.executable,
            "--env",
            "test",
            "--markdown",
            str(table),
            "--json",
            str(raw),
        ]
    )

    assert json.loads(raw.read_text()) == json.loads(json.dumps(report))
    (model,) = report["models"]
    assert model["model"] == "vae/bf16"
    for side in ("ours", "peer"):
        figures = model[side]
        assert figures["samples_per_s"] > 0 and figures["cpu_s_per_1k"] > 0 and figures["peak_rss_mib"] > 100
        assert figures["epochs_timed"] == 1  # quick: two epochs, the first not timed
        (run,) = figures["runs"]
        assert len(run["wall"]) == len(run["cpu"]) == 2
    assert model["ratio"] == pytest.approx(model["ours"]["samples_per_s"] / model["peer"]["samples_per_s"])
    assert model["train_gflop_per_sample"] > 0
    assert model["gemm_floor_samples_per_s"] is None  # --quick measures no floor
    # the same architecture on both sides: the same number of weights
    assert model["peer"]["runs"][0]["parameters"] == model["ours"]["runs"][0]["parameters"]
    # a /bf16 row: ours computes in bfloat16, the peer as always in float32
    assert (model["ours"]["runs"][0]["compute_dtype"], model["peer"]["runs"][0]["compute_dtype"]) == ("bfloat16", "float32")
    (stage,) = report["stages"]
    assert stage["stage"] == "cmapss_preprocessing" and stage["ours_s"] > 0 and stage["peer_s"] > 0
    assert stage["ratio"] == pytest.approx(stage["peer_s"] / stage["ours_s"])
    assert report["matmul_gflop_s"]["before"] > 0 and "after" not in report["matmul_gflop_s"]  # measured once in --quick

    lines = table.read_text().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| model |"))
    columns = lines[header].count("|")
    assert "GFLOP/s (measured once: --quick)." in lines[0]
    row = lines[header + 2]
    assert row.split("|")[1].strip() == "vae/bf16" and row.count("|") == columns
    assert any(line.startswith("| cmapss_preprocessing |") for line in lines)


def test_the_matmul_floor_times_each_products_forward_and_both_backward_products():
    import keras
    import peer_worker

    inputs = keras.Input((6,))
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Dense(5)(inputs)))
    assert peer_worker._gemms(model, batch=8) == [
        (8, 6, 5),
        (8, 5, 6),
        (6, 8, 5),  # forward, input gradient, weight gradient of the first layer
        (8, 5, 3),
        (8, 3, 5),
        (5, 8, 3),
    ]
    assert peer_worker._model_flops(model) == 2 * (6 * 5 + 5 * 3)
    assert peer_worker.gemm_ceiling_seconds(model, batch=8, repeats=2) > 0


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
