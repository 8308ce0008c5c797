"""The ``rul_vae`` pipeline run through Kedro on generated C-MAPSS-like files."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from kedro.io.core import DatasetError
from kedro.validation import DataValidationError, ParameterValidationError
from mlflow import MlflowClient

from autoencoder_pipelines.data.cmapss import CMAPSSValidationError
from autoencoder_pipelines.evaluation import nasa_offset
from tests.conftest import write_cmapss
from tests.pipelines.kedro_project import latest, make_project, run_pipeline

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A copy of the project's configuration in a temporary folder, with raw data."""
    return make_project(tmp_path, monkeypatch, CMAPSS_DATA_DIR=str(write_cmapss(tmp_path / "raw")))


def _run(project: Path, **runtime_params):
    return run_pipeline(project, "rul_vae", **runtime_params)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """``(project, catalog)`` of one ``rul_vae`` run, shared by the tests that read a run
    (a run is most of their time)."""
    tmp_path = tmp_path_factory.mktemp("ran")
    with pytest.MonkeyPatch.context() as monkeypatch:
        project = make_project(tmp_path, monkeypatch, CMAPSS_DATA_DIR=str(write_cmapss(tmp_path / "raw")))
        yield project, _run(project)


_latest = latest


@pytest.mark.slow
def test_rul_vae_runs_end_to_end_and_writes_versioned_outputs(ran):
    project, catalog = ran
    out = project / "data"
    metrics = json.loads(_latest(out / "08_reporting/rul_vae/FD001/metrics.json").read_text())
    assert set(metrics) >= {"rmse", "r2", "nasa_score", "n_engines"}
    assert metrics["n_engines"] == 6 and np.isfinite(metrics["rmse"])
    for figure in ("health_map.png", "rul_per_engine.png"):
        assert _latest(out / "08_reporting/rul_vae/FD001" / figure).read_bytes()[:4] == b"\x89PNG"

    # The saved model reloads through the catalog and reproduces the saved predictions.
    model = catalog.load("rul_vae.model")
    x_test = catalog.load("rul_vae.x_test")
    predictions = pd.read_parquet(_latest(out / "07_model_output/rul_vae/FD001/test_predictions.parquet"))
    np.testing.assert_allclose(model.predict(x_test, verbose=0)["rul"], predictions["predicted_rul"], rtol=1e-6)
    assert x_test.shape == (6, 10, 14)  # conf/base: the 14 informative sensors

    # conf/base: the offset is fitted on the validation windows (the one that minimises their
    # NASA score), saved with the model, and every estimate lies within 0..max_rul.
    x_val, y_val = catalog.load("rul_vae.x_val"), catalog.load("rul_vae.y_val")
    offset = nasa_offset(y_val, [model.raw_rul(x_val)], 0.0, 125.0)
    assert model.config.rul_offset == offset == metrics["rul_offset"] == predictions["rul_offset"].iloc[0]
    assert catalog.load("rul_vae.rul_offset") == offset  # fitted by its own node, read by the model
    raw = model.raw_rul(x_test)
    np.testing.assert_allclose(predictions["predicted_rul"], np.clip(raw + offset, 0.0, 125.0), rtol=1e-6, atol=1e-4)

    # How far each answer can be trusted: the conformal interval (calibrated on the
    # validation engines cut at every cycle), the out-of-distribution flag, the batch's drift.
    calibration = catalog.load("rul_vae.interval_calibration")
    assert calibration["level"] == 0.5 and calibration["n_engines"] == 2  # conf/test: 2 validation engines
    half = calibration["half_width"]
    np.testing.assert_allclose(predictions["rul_lower"], np.clip(predictions["predicted_rul"] - half, 0, 125))
    np.testing.assert_allclose(predictions["rul_upper"], np.clip(predictions["predicted_rul"] + half, 0, 125))
    inside = (predictions["true_rul_capped"] >= predictions["rul_lower"]) & (
        predictions["true_rul_capped"] <= predictions["rul_upper"]
    )
    assert metrics["interval_coverage"] == pytest.approx(inside.mean())
    detector = catalog.load("rul_vae.ood_detector")
    assert detector["validation_flag_rate"] <= 0.05 + 1e-9 and len(detector["mean"]) == 14
    assert metrics["ood_share"] == pytest.approx((predictions["ood_score"] > detector["threshold"]).mean())
    assert predictions["ood"].tolist() == (predictions["ood_score"] > detector["threshold"]).tolist()
    drift = catalog.load("rul_vae.test_drift_report")
    assert drift["n_current"] == 6 and set(drift["features"]) == set(detector["features"])
    # its verdict: the engines the detector flags against the rate it flags on validation
    assert drift["flagged"] == predictions["ood"].sum() and drift["expected_flag_rate"] == detector["false_flag_rate"]
    assert np.isfinite(predictions.select_dtypes("number").to_numpy()).all()

    # Every intermediate dataset and the model are versioned.
    for path in (
        "02_intermediate/cmapss/FD001/train.parquet",
        "04_feature/rul_vae/FD001/train_smoothed.parquet",
        "05_model_input/rul_vae/FD001/x_train.npy",
        "04_feature/rul_vae/FD001/condition_scaler.json",
        "06_models/rul_vae/FD001/model.keras",
    ):
        assert _latest(out / path).exists()
    # The backup of the finished run is gone.
    assert not list((out / "06_models/backups").glob("*"))


@pytest.mark.slow
def test_a_second_run_adds_versions_instead_of_replacing_the_model(ran):
    project, _ = ran
    _run(project)
    versions = sorted((project / "data/06_models/rul_vae/FD001/model.keras").iterdir())
    assert len(versions) == 2
    keras.models.load_model(_latest(project / "data/06_models/rul_vae/FD001/model.keras"))


@pytest.mark.slow
def test_subset_switch_reads_that_subsets_files(project):
    write_cmapss(Path(project / "raw"), subset="FD004", n_train=10, n_test=4, seed=5)
    _run(project, cmapss_subset="FD004", rul_vae={"data": {"sensors": None}})  # the paper's sensors of FD004
    metrics = json.loads(_latest(project / "data/08_reporting/rul_vae/FD004/metrics.json").read_text())
    assert metrics["n_engines"] == 4
    x_test = np.load(_latest(project / "data/05_model_input/rul_vae/FD004/x_test.npy"))
    assert x_test.shape[2] == 6  # s_10 joins the sensors on FD004


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cmapss_subset": "FD005"}, "subset"),
        ({"rul_vae": {"training": {"epochs": 0}}}, "epochs"),
        ({"rul_vae": {"data": {"smoothing_alpha": 1.5}}}, "smoothing_alpha"),
        ({"rul_vae": {"model": {"lstm_units": -3}}}, "lstm_units"),
    ],
)
def test_bad_parameters_stop_the_run_before_any_work(project, params, message):
    with pytest.raises(ParameterValidationError, match=message):
        _run(project, **params)
    assert not (project / "data").exists()


def test_a_window_longer_than_every_engine_is_refused_before_training(project):
    with pytest.raises(CMAPSSValidationError, match=r"train_FD001.txt: window=500 .* longer than every training engine"):
        _run(project, rul_vae={"data": {"window": 500}})
    assert not (project / "data/06_models/rul_vae").exists()


def test_a_missing_raw_file_names_the_file(project):
    (project / "raw" / "RUL_FD001.txt").unlink()
    with pytest.raises(DatasetError, match="RUL_FD001.txt"):
        _run(project)


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (("1 1 ", "1 x "), r"row 1, column 'time_cycles': 'x' is not a number"),
        (("1 2 ", "1 2.5 "), r"row 2 \(unit 1, cycle 2.5\), column 'time_cycles': 2.5 is not a whole number"),
    ],
)
def test_a_corrupt_raw_file_stops_at_its_schema_naming_the_file_row_and_column(project, replace, message):
    """The catalog's validator (the engine logs' schema) refuses the parsed file when the
    ingestion node saves it: nothing later runs or is written."""
    path = project / "raw" / "test_FD001.txt"
    path.write_text(path.read_text().replace(*replace, 1))
    with pytest.raises(DataValidationError, match="dataset 'cmapss_test' on save") as error:
        _run(project)
    cause = error.value.__cause__  # Kedro's message shortens ours; the traceback shows both
    assert isinstance(cause, CMAPSSValidationError) and re.search(r"test_FD001\.txt: .*" + message, str(cause), re.S)
    assert not (project / "data/02_intermediate/cmapss/FD001/test.parquet").exists()
    assert not (project / "data/06_models").exists()


@pytest.mark.slow
def test_the_health_map_notebook_runs_top_to_bottom_on_a_run(ran):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    project, _ = ran
    shutil.copytree(REPO / "notebooks", project / "notebooks")
    notebook = nbformat.read(project / "notebooks" / "rul_vae_health_map.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(project / "notebooks")}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {}) for o in outputs)
    assert not any(o.get("output_type") == "error" for o in outputs)


def _kedro_run(folder: Path, raw: Path, *params: str, log: str = "run.log") -> subprocess.Popen:
    """``kedro run --env=test --pipeline=rul_vae`` in its own process, in ``folder``, its
    output in ``folder / log`` (a pipe nobody reads until the end would fill and block it)."""
    env = {
        **os.environ,
        "CMAPSS_DATA_DIR": str(raw),
        "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
        "KEDRO_DISABLE_TELEMETRY": "1",
        "COLUMNS": "400",
    }  # log lines unwrapped
    command = [sys.executable, "-m", "kedro", "run", "--env=test", "--pipeline=rul_vae", f"--params={','.join(params)}"]
    with (folder / log).open("wb") as output:
        return subprocess.Popen(command, cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_a_run_killed_with_sigkill_resumes_and_ends_bit_for_bit_as_an_uninterrupted_one(tmp_path, monkeypatch):
    raw = write_cmapss(tmp_path / "raw")
    for name in ("killed", "whole"):
        (tmp_path / name).mkdir()
    killed, whole = make_project(tmp_path / "killed", monkeypatch), make_project(tmp_path / "whole", monkeypatch)
    for folder in (killed, whole):  # tracked, as a production run is (conf/test leaves rul_vae untracked)
        (folder / "conf/test/mlflow.yml").write_text("tracking:\n  disable_tracking:\n    pipelines: []\n")
    params = ("rul_vae.training.epochs=20", "rul_vae.training.patience=20")  # long enough to be killed in training
    uninterrupted = _kedro_run(whole, raw, *params)

    first = _kedro_run(killed, raw, *params)
    backups = killed / "data/06_models/backups"
    deadline = time.monotonic() + 600
    while not any(json.loads(p.read_text())["epoch"] >= 2 for p in backups.glob("*/state.json") if p.stat().st_size):
        assert first.poll() is None, f"the run ended before it could be killed:\n{(killed / 'run.log').read_text()[-3000:]}"
        assert time.monotonic() < deadline, "no epoch backup in 10 minutes"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL
    assert not list((killed / "data/06_models/rul_vae").rglob("model.keras"))  # no model from a killed run
    (state,) = backups.glob("*/state.json")
    stopped_after = json.loads(state.read_text())["epoch"]

    again = _kedro_run(killed, raw, *params, log="again.log")
    again.wait(timeout=600)
    output = (killed / "again.log").read_text()
    assert again.returncode == 0, output[-3000:]
    assert f"after epoch {stopped_after}" in output and "Resuming training from the backup" in output
    assert not state.parent.exists()  # the backup is removed once training has finished
    assert uninterrupted.wait(timeout=600) == 0, (whole / "run.log").read_text()[-3000:]

    # bit for bit: the weights, the history and every prediction
    models = [keras.saving.load_model(_latest(folder / "data/06_models/rul_vae/FD001/model.keras")) for folder in (killed, whole)]
    for resumed, straight in zip(*(m.get_weights() for m in models), strict=True):
        np.testing.assert_array_equal(resumed, straight)
    histories = [
        json.loads(_latest(f / "data/08_reporting/rul_vae/FD001/training_history.json").read_text()) for f in (killed, whole)
    ]
    assert histories[0] == histories[1] and len(histories[0]["val_loss"]) == 20
    predictions = [
        pd.read_parquet(_latest(f / "data/07_model_output/rul_vae/FD001/test_predictions.parquet")) for f in (killed, whole)
    ]
    pd.testing.assert_frame_equal(*predictions, check_exact=True)

    # MLflow: the killed run was marked KILLED when the next one started; the next one finished
    client = MlflowClient(tracking_uri=f"sqlite:///{killed / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert sorted(r.info.status for r in runs if r.info.run_name == "rul_vae") == ["FINISHED", "KILLED"]
