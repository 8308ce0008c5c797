"""``rul_vae_retrain``'s tracking, and its champion in batch inference, through
``mlflow.pyfunc`` and served over HTTP by ``mlflow models serve`` (the promotion itself:
``test_retraining.py``).

The tests share one temporary copy of the project, with its own MLflow database
(``mlflow.db`` in that folder, ``MLFLOW_TRACKING_URI``), where ``rul_vae_retrain`` ran
once and registered the first champion.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import mlflow
import numpy as np
import pandas as pd
import pytest
from kedro.validation import DataValidationError
from mlflow import MlflowClient

from autoencoder_pipelines.data.cmapss import COLUMNS, CMAPSSValidationError
from autoencoder_pipelines.models import RecurrentVAE, RecurrentVAEConfig
from autoencoder_pipelines.pipelines.rul_inference.nodes import NoChampionError
from autoencoder_pipelines.registry import load_champion
from tests.conftest import SENSOR_MEANS, make_engines, to_text, write_cmapss
from tests.pipelines.kedro_project import REPO, latest, make_project, run_pipeline

MODEL = "rul_vae_FD001"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project copy with an empty registry."""
    return make_project(tmp_path, monkeypatch, CMAPSS_DATA_DIR=str(write_cmapss(tmp_path / "raw")))


@pytest.fixture(scope="module")
def retrained(tmp_path_factory):
    """A project copy where ``rul_vae_retrain`` ran once (champion: version 1)."""
    folder = tmp_path_factory.mktemp("retrained")
    patch = pytest.MonkeyPatch()
    project = make_project(folder, patch, CMAPSS_DATA_DIR=str(write_cmapss(folder / "raw")))
    _retrain(project)
    yield project
    patch.undo()


def _retrain(project, **params):
    return run_pipeline(project, "rul_vae_retrain", **params)


def _client(project) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")


@pytest.mark.slow
def test_retraining_is_tracked_in_mlflow(retrained):
    project = retrained
    client = _client(project)
    (experiment,) = [e for e in client.search_experiments() if e.name == "autoencoder_pipelines"]
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "rul_vae_retrain" and run.info.status == "FINISHED"
    # parameters (kedro-mlflow), metrics, training curves, figures and the model (our hook)
    assert float(run.data.params["rul_vae.training.learning_rate"]) > 0
    assert {"rmse", "nasa_score", "r2", "promotion.challenger"} <= set(run.data.metrics)
    assert len(client.get_metric_history(run.info.run_id, "epoch.loss")) == 2  # conf/test: 2 epochs
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "figures")}
    assert {
        "figures/figure_health_map.png",
        "figures/figure_rul_per_engine.png",
        "figures/figure_champion_rul_per_engine.png",
    } <= artifacts
    logged = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"promotion_decision.json", "interval_calibration.json", "ood_detector.json", "test_drift_report.json"} <= logged
    assert run.data.tags["test_drift.verdict"] in {"drift", "no drift"}
    assert {"interval_coverage", "interval_mean_width", "ood_share"} <= set(run.data.metrics)
    logged = client.search_logged_models([experiment.experiment_id])
    assert {m.name for m in logged} >= {"model", MODEL}
    # the served model's MLmodel file names it; its settings travel once, as settings.json
    from mlflow.models import get_model_info

    assert get_model_info(f"models:/{MODEL}/1").metadata == {"task": "rul_vae", "registered_model": MODEL, "version": "1"}


@pytest.mark.slow
def test_inference_without_a_champion_says_how_to_make_one(project, tmp_path):
    with pytest.raises(NoChampionError, match="rul_vae_retrain"):
        run_pipeline(project, "rul_inference", engines_file=str(tmp_path / "raw/test_FD001.txt"))


@pytest.mark.slow
def test_inference_scores_new_engines_with_the_champion(retrained, tmp_path):
    project = retrained
    engines, _ = make_engines(5, 8, 60, seed=7, truncate=True)  # some shorter than the window
    path = tmp_path / "new_engines.txt"
    path.write_bytes(to_text(engines))

    run_pipeline(project, "rul_inference", engines_file=str(path))
    predictions = pd.read_parquet(latest(project / "data/07_model_output/rul_inference/FD001/predictions.parquet"))
    assert predictions["unit_nr"].tolist() == [1, 2, 3, 4, 5]
    assert predictions["n_cycles"].tolist() == engines.groupby("unit_nr").size().tolist()
    assert np.isfinite(predictions[["predicted_rul", "z_1", "z_2"]].to_numpy()).all()
    assert set(predictions["model_version"]) == {"1"}
    assert latest(project / "data/08_reporting/rul_inference/FD001/health_map.png").read_bytes()[:4] == b"\x89PNG"
    # each engine's interval and flag, and the batch's drift report against the champion's training engines
    assert (predictions["rul_lower"] <= predictions["predicted_rul"]).all() and (
        predictions["predicted_rul"] <= predictions["rul_upper"]
    ).all()
    assert predictions["ood"].dtype == bool
    drift = json.loads(latest(project / "data/08_reporting/rul_inference/FD001/drift_report.json").read_text())
    assert drift["n_current"] == 5 and drift["flagged"] == predictions["ood"].sum()
    assert drift["verdict"] == ("drift" if drift["flag_pvalue"] < drift["flag_alpha"] else "no drift")

    # The champion's own predictions, through the registry, match its direct use.
    champion = load_champion(MODEL, client=_client(project))
    from autoencoder_pipelines.data.cmapss_files import read_engine_file
    from autoencoder_pipelines.data.config import CMAPSSConfig
    from autoencoder_pipelines.inference import score_engines

    # The engines as the file holds them (4 decimals), which is what the pipeline read.
    written = read_engine_file(path.read_bytes(), path.name)
    direct = score_engines(
        champion.model, written, champion.metadata["condition_scaler"], CMAPSSConfig(**champion.metadata["data"]), "x"
    )
    np.testing.assert_allclose(direct["predicted_rul"], predictions["predicted_rul"], rtol=1e-6)


def _row(**values) -> str:
    """One line in the NASA layout (unit 1, cycle 1, FD001's mean sensor values) with some fields replaced."""
    fields = (
        {c: f"{v:g}" for c, v in zip(COLUMNS[5:], SENSOR_MEANS)}
        | {"unit_nr": "1", "time_cycles": "1", "setting_1": "0", "setting_2": "0", "setting_3": "100"}
        | values
    )
    return " ".join(fields[c] for c in COLUMNS) + "\n"


MALFORMED = {
    # a table with a header, without s_4 (a sensor of the model): the column is named
    "missing sensor": (
        " ".join(c for c in COLUMNS if c != "s_4").encode() + b"\n" + _row().replace(" 1408.93", "", 1).encode(),
        r"engines\.txt: missing columns \['s_4'\]",
    ),
    "short row": (_row().rsplit(" ", 1)[0].encode() + b"\n", r"engines\.txt: expected 26 whitespace-separated columns"),
    "NaN": (_row(s_4="nan").encode(), r"engines\.txt: row 1 \(unit 1, cycle 1\), column 's_4': the value is missing"),
    "inf": (_row(s_2="inf").encode(), r"engines\.txt: row 1 \(unit 1, cycle 1\), column 's_2': inf is not a finite number"),
    "-inf": (_row(s_2="-inf").encode(), r"engines\.txt: row 1 \(unit 1, cycle 1\), column 's_2': -inf is not a finite number"),
    "1e308": (
        _row(s_4="1e308").encode(),
        r"engines\.txt: row 1 \(unit 1, cycle 1\), column 's_4': 1e\+308 is outside the envelope",
    ),
    "far outside": (
        _row(s_11="480").encode(),
        r"engines\.txt: row 1 \(unit 1, cycle 1\), column 's_11': 480 is outside the envelope",
    ),
    "text": (_row(s_11="high").encode(), r"engines\.txt: row 1 \(unit 1, cycle 1\), column 's_11': 'high' is not a number"),
    "negative unit": (_row(unit_nr="-2").encode(), r"engines\.txt: row 1 \(unit -2, cycle 1\), column 'unit_nr': -2 is below 1"),
    "fractional cycle": (
        (_row() + _row(time_cycles="1.5")).encode(),
        r"engines\.txt: .*row 2 \(unit 1, cycle 1\.5\), column 'time_cycles': 1\.5 is not a whole number",
    ),
    "cycles": ((_row() + _row()).encode(), r"engines\.txt: row 2 \(unit 1, cycle 1\): breaks the order"),
}


@pytest.mark.slow
def test_inference_rejects_malformed_engine_files(retrained, tmp_path):
    """Each bad file stops ``rul_inference`` before any prediction or report is written,
    naming the file, the row and the column: at the catalog's schema (``DataValidationError``
    from Kedro, ours as its cause), or at the reader or the champion's own columns."""
    project = retrained

    def written() -> list:
        return [
            p
            for folder in ("data/07_model_output/rul_inference", "data/08_reporting/rul_inference")
            for p in sorted((project / folder).rglob("*"))
        ]

    before = written()
    for case, (content, message) in MALFORMED.items():
        path = tmp_path / "engines.txt"
        path.write_bytes(content)
        with pytest.raises((CMAPSSValidationError, DataValidationError)) as error:
            run_pipeline(project, "rul_inference", engines_file=str(path))
        ours = error.value.__cause__ if isinstance(error.value, DataValidationError) else error.value
        assert isinstance(ours, CMAPSSValidationError) and re.search(message, str(ours), re.S), (case, str(ours))
        assert written() == before, case  # no prediction, no report


def test_scoring_rejects_a_model_whose_windows_differ_from_its_data_settings(engines):
    from autoencoder_pipelines.data.cmapss import ConditionScaler
    from autoencoder_pipelines.data.config import CMAPSSConfig
    from autoencoder_pipelines.inference import score_engines

    _, test, _ = engines
    data = CMAPSSConfig(
        subset="FD001", window=10, max_rul=125, smoothing_alpha=0.1, validation_fraction=0.2, split_seed=0, mask_value=-99.0
    )
    model = RecurrentVAE(RecurrentVAEConfig(lstm_units=2, regressor_units=2, input_shape=(12, 5), mask_value=-99.0))
    scaler = ConditionScaler.fit(test, data.sensor_columns).to_dict()
    with pytest.raises(CMAPSSValidationError, match="takes windows of 12 cycles x 5 sensors.*10 cycles x 5 sensors"):
        score_engines(model, test, scaler, data, "engines.txt")


# --- the champion served over HTTP ------------------------------------------------------


@pytest.fixture(scope="module")
def server(retrained):
    """``mlflow models serve`` of the champion on 127.0.0.1, on a port the OS picks when the
    server binds it (no port chosen here and released first, for another process to take);
    yields its base URL."""
    # the server runs `uvicorn` from PATH: the environment's scripts, as with an activated venv
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path, "MLFLOW_TRACKING_URI": f"sqlite:///{retrained / 'mlflow.db'}"}
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        f"models:/{MODEL}@champion",
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        "0",
        "-w",
        "1",
    ]
    log = retrained / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, cwd=retrained, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not (found := re.search(rb"Uvicorn running on (http://127\.0\.0\.1:\d+)", log.read_bytes())):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow models serve did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        url = found.group(1).decode()
        while True:
            if process.poll() is not None:
                pytest.fail(f"mlflow models serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow models serve did not answer /ping:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _post(url: str, body: bytes, content_type: str) -> tuple[int, dict]:
    """The status and the JSON answer; every answer is strict JSON (no NaN, no Infinity)."""
    request = urllib.request.Request(f"{url}/invocations", data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()

    def refuse(constant):
        raise AssertionError(f"the answer holds {constant}, which is not JSON: {text[:300]!r}")

    return status, json.loads(text, parse_constant=refuse)


def _frame(answer: dict) -> pd.DataFrame:
    return pd.DataFrame(answer["predictions"])


@pytest.fixture(scope="module")
def batch_scored(retrained, tmp_path_factory):
    """New engines (some shorter than the window) and the batch pipeline's predictions."""
    engines, _ = make_engines(4, 8, 60, seed=11, truncate=True)
    path = tmp_path_factory.mktemp("engines") / "engines.txt"
    path.write_bytes(to_text(engines))
    run_pipeline(retrained, "rul_inference", engines_file=str(path))
    predictions = pd.read_parquet(latest(retrained / "data/07_model_output/rul_inference/FD001/predictions.parquet"))
    # the engines as the file gave them (4 decimals), with a header: what a client sends
    return pd.read_csv(io.BytesIO(to_text(engines)), sep=" ", header=None, names=list(COLUMNS)), predictions


SERVED_COLUMNS = [
    "unit_nr",
    "n_cycles",
    "predicted_rul",
    "rul_lower",
    "rul_upper",
    "rul_spread",
    "ood_score",
    "ood",
    "z_1",
    "z_2",
    "model",
    "model_version",
]


@pytest.mark.slow
def test_batch_pyfunc_and_server_give_identical_answers(retrained, server, batch_scored):
    engines, batch = batch_scored
    assert list(batch.columns) == SERVED_COLUMNS and set(batch["model_version"]) == {"1"}

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{retrained / 'mlflow.db'}")
    try:
        loaded = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
    finally:
        mlflow.set_tracking_uri(previous)
    pd.testing.assert_frame_equal(loaded.predict(engines), batch, check_exact=True)

    status, answer = _post(server, engines.to_csv(index=False).encode(), "text/csv")
    assert status == 200, answer
    pd.testing.assert_frame_equal(_frame(answer)[SERVED_COLUMNS], batch, check_exact=True, check_dtype=False)

    split = {"dataframe_split": json.loads(engines.to_json(orient="split", index=False, double_precision=15))}
    status, answer = _post(server, json.dumps(split).encode(), "application/json")
    assert status == 200, answer
    pd.testing.assert_frame_equal(_frame(answer)[SERVED_COLUMNS], batch, check_exact=True, check_dtype=False)


@pytest.mark.slow
def test_the_challengers_evaluation_inference_and_the_served_model_score_engines_identically(retrained):
    """One scoring of engines (``inference.score_engines``) behind all three: the champion
    (version 1, this run's challenger) scored the evaluation engines in its own evaluation;
    ``rul_inference`` and the served model score the same file again."""
    test_file = retrained / "raw" / "test_FD001.txt"
    challenger = pd.read_parquet(latest(retrained / "data/07_model_output/rul_vae/FD001/test_predictions.parquet"))
    run_pipeline(retrained, "rul_inference", engines_file=str(test_file))
    batch = pd.read_parquet(latest(retrained / "data/07_model_output/rul_inference/FD001/predictions.parquet"))
    engines = pd.read_csv(test_file, sep=r"\s+", header=None, names=list(COLUMNS))
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{retrained / 'mlflow.db'}")
    try:
        served = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion").predict(engines)
    finally:
        mlflow.set_tracking_uri(previous)
    scored = SERVED_COLUMNS[:-2]  # all but the model's name and version, which an evaluation does not carry
    assert len(challenger) == 6
    pd.testing.assert_frame_equal(batch[scored], challenger[scored], check_exact=True)
    pd.testing.assert_frame_equal(served[scored], challenger[scored], check_exact=True)


def _malformed(engines: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, str]]:
    """Requests no engine can send, each with what the answer must name (row 3 is unit 1's third cycle)."""

    def value(column, new, row=2):
        frame = engines.astype({column: object if isinstance(new, str) else np.float64})
        frame.loc[row, column] = new
        return frame

    shuffled = engines.copy()
    shuffled.loc[[3, 4], "time_cycles"] = shuffled.loc[[4, 3], "time_cycles"].to_numpy()
    at = r"request: (\d+ problems:\n  )?row 3 \(unit {unit}, cycle {cycle}\), column '{column}': "
    return {
        "missing sensor": (engines.drop(columns="s_4"), r"request: missing columns \['s_4'\]"),
        "NaN": (value("s_7", np.nan), at.format(unit=1, cycle=3, column="s_7") + r"the value is missing"),
        "inf": (value("s_2", np.inf), at.format(unit=1, cycle=3, column="s_2") + r"inf is not a finite number"),
        "-inf": (value("s_2", -np.inf), at.format(unit=1, cycle=3, column="s_2") + r"-inf is not a finite number"),
        "1e308": (value("s_4", 1e308), at.format(unit=1, cycle=3, column="s_4") + r"1e\+308 is outside the envelope"),
        "far outside": (value("s_11", 480.0), at.format(unit=1, cycle=3, column="s_11") + r"480 is outside the envelope"),
        "text": (value("s_11", "high"), at.format(unit=1, cycle=3, column="s_11") + r"'high' is not a number"),
        "negative unit": (value("unit_nr", -1.0), at.format(unit=-1, cycle=3, column="unit_nr") + r"-1 is below 1"),
        "fractional unit": (
            value("unit_nr", 1.5),
            at.format(unit=r"1\.5", cycle=3, column="unit_nr") + r"1\.5 is not a whole number",
        ),
        "negative cycle": (value("time_cycles", -3.0), at.format(unit=1, cycle=-3, column="time_cycles") + r"-3 is below 1"),
        "fractional cycle": (
            value("time_cycles", 2.5),
            at.format(unit=1, cycle=r"2\.5", column="time_cycles") + r"2\.5 is not a whole number",
        ),
        "unsorted cycles": (shuffled, r"request: (\d+ problems:\n  )?row 4 \(unit 1, cycle 5\): breaks the order"),
        "not the layout": (
            engines.set_axis([f"c{i}" for i in range(engines.shape[1])], axis=1),
            r"request: the columns \['c0', .*\] are not the C-MAPSS layout",
        ),
    }


@pytest.mark.slow
@pytest.mark.parametrize("content_type", ["text/csv", "application/json"])
def test_server_refuses_malformed_requests_with_400_and_keeps_serving(server, batch_scored, content_type):
    engines, batch = batch_scored
    for case, (frame, message) in _malformed(engines).items():
        if content_type == "text/csv":
            body = frame.to_csv(index=False).encode()
        else:
            # json.dumps writes inf as Infinity (what a Python client sends); pandas' to_json would write null
            body = json.dumps({"dataframe_split": frame.to_dict(orient="split", index=False)}).encode()
        status, answer = _post(server, body, content_type)
        assert status == 400, (case, answer)
        assert answer["error_code"] == "INVALID_PARAMETER_VALUE", (case, answer)
        assert re.search(message, answer["message"]), (case, answer["message"][-500:])
    status, answer = _post(server, engines.to_csv(index=False).encode(), "text/csv")
    assert status == 200
    pd.testing.assert_frame_equal(_frame(answer)[SERVED_COLUMNS], batch, check_exact=True, check_dtype=False)


@pytest.mark.slow
def test_the_load_benchmark_counts_every_request_and_engine(server, retrained, tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    import serve_load

    report_path = tmp_path / "load.json"
    report = serve_load.main(
        [
            "--url",
            server,
            "--engines",
            str(retrained / "raw/test_FD001.txt"),
            "--engines-per-request",
            "4",
            "--requests",
            "12",
            "--warmup",
            "2",
            "--clients",
            "3",
            "--json",
            str(report_path),
        ]
    )
    assert (report.requests, report.ok, report.errors, report.first_error) == (12, 12, 0, None)
    assert json.loads(report_path.read_text())["ok"] == 12  # the figures themselves are not asserted

    # a request the server refuses is counted as an error, not lost
    refused = serve_load.post(server, b"unit_nr,time_cycles\n1,1\n", expected_rows=1)[1]
    assert refused.startswith("HTTP 400")


def test_a_champion_registered_before_models_were_served_scores_as_a_served_one(engines):
    """A bare Keras version (its settings as metadata, no ``task``) is scored by
    ``rul_inference`` and ``rul_vae_retrain``'s champion evaluation through the same
    preprocessing as the served model."""
    from autoencoder_pipelines.data.cmapss import ConditionScaler
    from autoencoder_pipelines.data.config import CMAPSSConfig
    from autoencoder_pipelines.pipelines.rul_inference.nodes import (
        InferenceConfig,
        score_new_engines,
    )
    from autoencoder_pipelines.pipelines.rul_vae.champion import evaluate_champion
    from autoencoder_pipelines.registry import RegisteredModel
    from autoencoder_pipelines.serving import RULSettings, served

    train, test, rul = engines
    data = CMAPSSConfig(
        subset="FD001", window=10, max_rul=125, smoothing_alpha=0.1, validation_fraction=0.2, split_seed=0, mask_value=-99.0
    )
    model = RecurrentVAE(
        RecurrentVAEConfig(
            lstm_units=2, regressor_units=2, input_shape=(10, len(data.sensor_columns)), mask_value=-99.0, rul_offset=2.5
        )
    )
    model(np.zeros((1, 10, len(data.sensor_columns)), np.float32))
    legacy = {
        "condition_scaler": ConditionScaler.fit(train, data.sensor_columns).to_dict(),
        "data": data.model_dump(mode="json"),
        "health_map": {"z_1": [0.0], "z_2": [0.0], "RUL": [1.0]},
        "metrics": {"rmse": 1.0},
    }
    champion = RegisteredModel(name=MODEL, version="7", model=model, metadata=legacy)
    settings = RULSettings.model_validate({**legacy, "registered_model": MODEL, "version": "7"})
    expected = served(model, settings).score(test, "engines.txt")

    scored = score_new_engines(champion, test, InferenceConfig(engines_file="engines.txt"))
    pd.testing.assert_frame_equal(scored, expected, check_exact=True)
    assert "rul_lower" not in scored and "ood" not in scored  # no calibration: no interval, no flag, not made up
    with pytest.raises(ValueError, match=r"version 7 carries no drift reference .*`kedro run --pipeline=rul_vae_retrain`"):
        served(model, settings).drift(test, "engines.txt")
    truth = pd.DataFrame({"unit_nr": sorted(set(test["unit_nr"])), "RUL": rul}).assign(
        item=lambda t: "test:" + t["unit_nr"].astype(str)
    )
    metrics, predictions = evaluate_champion(champion, test, truth, data)
    assert metrics["lineage"] is None  # registered before lineage was recorded
    assert metrics["version"] == "7" and metrics["rul_offset"] == 2.5  # the champion's own, as it serves
    np.testing.assert_array_equal(predictions["predicted_rul"], expected["predicted_rul"])
