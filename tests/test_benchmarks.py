"""The benchmarks' Kedro driver: a slice of a registered pipeline, run in memory with the
project's configuration, gives what ``kedro run`` gives and writes nothing to disk."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pytest

from tests.conftest import write_cmapss
from tests.pipelines.kedro_project import REPO, tracking_database

sys.path.insert(0, str(REPO / "benchmarks"))

WINDOWS = ["rul_vae.preprocessing.make_training_windows", "rul_vae.preprocessing.make_test_windows"]


@pytest.fixture
def kedro_slice(tmp_path, monkeypatch):
    import kedro_slice

    monkeypatch.setenv("CMAPSS_DATA_DIR", str(write_cmapss(tmp_path / "raw")))
    # The slice's session is the repository's: its MLflow hook opens the tracking URI, which
    # must not be the repository's own mlflow.db (a developer's runs; raced by the workers).
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_database(tmp_path))
    yield kedro_slice
    logging.disable(logging.NOTSET)  # the slice quiets Kedro's INFO lines for the benchmark's run


def test_a_preprocessing_slice_runs_the_pipelines_nodes_in_memory(kedro_slice):
    before = sorted(p.relative_to(REPO) for p in (REPO / "data").rglob("*") if p.is_file())
    preprocessing = kedro_slice.PipelineSlice("rul_vae", to_nodes=WINDOWS, env="test")
    assert set(preprocessing.inputs) == {
        "cmapss_train_raw",
        "cmapss_test_raw",
        "cmapss_arrivals",
        "params:rul_vae.data",
        "params:rul_vae.intervals",
        "params:rul_vae.arrivals",
    }
    first, second = preprocessing.run(), preprocessing.run()

    data = preprocessing.inputs["params:rul_vae.data"]  # typed by Kedro, as in a run
    assert first["rul_vae.x_train"].shape[1:] == (data.window, len(data.sensor_columns)) == (10, 14)
    assert len(first["rul_vae.x_test"]) == 6  # one window per test engine
    for name in ("rul_vae.x_train", "rul_vae.y_val", "rul_vae.x_test"):
        np.testing.assert_array_equal(first[name], second[name])
    # every node ran twice, and timed; nothing was written to the project's data folder
    assert set(preprocessing.timer.seconds) == {node.name for node in preprocessing.pipeline.nodes}
    assert sorted(p.relative_to(REPO) for p in (REPO / "data").rglob("*") if p.is_file()) == before


def test_the_inputs_of_a_node_are_its_datasets_not_its_parameters(kedro_slice):
    assert kedro_slice.node_inputs("rul_vae", "rul_vae.training.train_rul_vae") == [
        "rul_vae.x_train",
        "rul_vae.y_train",
        "rul_vae.x_val",
        "rul_vae.y_val",
    ]
