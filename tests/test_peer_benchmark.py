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
