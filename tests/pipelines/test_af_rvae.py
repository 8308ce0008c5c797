"""The ``af_rvae`` pipeline through Kedro (``env="test"``): 20 simulated patients per class."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.validation import DataValidationError, ParameterValidationError

from autoencoder_pipelines.uncertainty import (
    expected_calibration_error,
    scale_probabilities,
)
from tests.pipelines.kedro_project import latest, make_project, run_pipeline


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    return make_project(tmp_path, monkeypatch)


def _run(project: Path, **runtime_params):
    return run_pipeline(project, "af_rvae", **runtime_params)


_latest = latest


@pytest.mark.slow
def test_af_rvae_runs_end_to_end_on_simulated_patients(project):
    catalog = _run(project)
    patients = catalog.load("af_rvae.patients")
    assert len(patients) == 120 and sorted(patients["class"].unique()) == list(range(6))
    episodes = catalog.load("af_rvae.episodes")
    assert (episodes["end"] > episodes["start"]).all() and episodes["end"].max() <= 750  # conf/test: 750 days
    series = catalog.load("af_rvae.burden_series")
    assert series.shape == (120, 30) and series.min() >= 0 and series.max() <= 1
    x_train, x_val, x_test = (catalog.load(f"af_rvae.x_{s}") for s in ("train", "val", "test"))
    assert (len(x_train), len(x_val), len(x_test)) == (72, 24, 24) and x_train.shape[1:] == (30, 1)
    np.testing.assert_array_equal(np.bincount(catalog.load("af_rvae.y_test")), [4] * 6)  # stratified

    reports = project / "data/08_reporting/af_rvae"
    metrics = json.loads(_latest(reports / "metrics.json").read_text())
    assert {"accuracy", "macro_f1", "confusion_matrix"} <= set(metrics)
    assert np.sum(metrics["confusion_matrix"]) == 24
    assert metrics["probability_spread_mean"] == 0.0  # one model: no spread
    # The gradient-boosting baseline, scored on the same test patients.
    baseline = json.loads(_latest(reports / "baseline_metrics.json").read_text())
    assert baseline["model"] == "HistGradientBoostingClassifier(max_iter=5)"
    assert np.sum(baseline["confusion_matrix"]) == 24 and 0.0 <= baseline["accuracy"] <= 1.0
    for figure in ("diagnosis_map", "confusion_matrix", "reconstructions", "reliability_diagram"):
        assert _latest(reports / f"{figure}.png").read_bytes()[:4] == b"\x89PNG"
    model = catalog.load("af_rvae.model")
    raw = catalog.load("af_rvae.test_raw_probabilities")
    np.testing.assert_allclose(model.predict(x_test, verbose=0)["probabilities"], raw, rtol=1e-5, atol=1e-6)

    # calibrated on the validation patients: one temperature; the test ECE before and after
    calibration = catalog.load("af_rvae.probability_calibration")
    assert calibration["validation_nll_after"] <= calibration["validation_nll_before"] + 1e-9
    np.testing.assert_allclose(
        catalog.load("af_rvae.test_probabilities"), scale_probabilities(raw, calibration["temperature"]), rtol=1e-9
    )
    assert metrics["ece"] == pytest.approx(
        expected_calibration_error(catalog.load("af_rvae.test_probabilities"), catalog.load("af_rvae.y_test"))
    )
    assert metrics["ece_before_calibration"] == pytest.approx(expected_calibration_error(raw, catalog.load("af_rvae.y_test")))
    # the out-of-distribution flag: the reconstruction error's validation quantile flags 5% of validation patients
    detector = catalog.load("af_rvae.ood_detector")
    assert detector["kind"] == "reconstruction_mse" and detector["validation_flag_rate"] <= 0.05 + 1e-9
    scores = catalog.load("af_rvae.test_ood_scores")
    assert metrics["ood_share"] == pytest.approx(np.mean(scores > detector["threshold"]))
    drift = catalog.load("af_rvae.test_drift_report")
    assert set(drift["features"]) == {f"tenth_{i}" for i in range(1, 11)}
    assert drift["flagged"] == np.sum(scores > detector["threshold"]) and drift["n_current"] == len(scores)
    assert drift["verdict"] == ("drift" if drift["flag_pvalue"] < drift["flag_alpha"] else "no drift")


def test_the_same_seed_simulates_the_same_logs():
    from autoencoder_pipelines.data.config import PacemakerSimulationConfig
    from autoencoder_pipelines.pipelines.af_rvae.nodes import simulate_pacemaker_logs

    config = PacemakerSimulationConfig(patients_per_class=5, days=365, beta_na=(10.0,), alpha=(0.999,), seed=3)
    first, again = simulate_pacemaker_logs(config), simulate_pacemaker_logs(config)
    pd.testing.assert_frame_equal(first[1], again[1])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"simulation": {"beta_na": [-1.0, 30.0]}}, "beta_na"),
        ({"simulation": {"alpha": [0.998, 1.5]}}, "alpha"),
        ({"simulation": {"patients_per_class": 0}}, "patients_per_class"),
    ],
)
def test_bad_simulation_parameters_stop_the_run_before_any_work(project, params, message):
    with pytest.raises(ParameterValidationError, match=message):
        _run(project, af_rvae=params)
    assert not (project / "data").exists()


@pytest.mark.slow
def test_af_rvae_retraining_registers_a_champion_and_keeps_it_against_a_worse_challenger(project):
    from mlflow import MlflowClient

    from autoencoder_pipelines.registry import champion_version

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    run_pipeline(project, "af_rvae_retrain")
    first = json.loads(_latest(project / "data/08_reporting/af_rvae/promotion_decision.json").read_text())
    assert first["promote"] is True and first["metric"] == "accuracy" and first["champion_version"] is None
    assert champion_version("af_rvae", client=client) == "1"

    # Accuracy cannot rise by more than 1: this challenger is registered, not promoted.
    run_pipeline(project, "af_rvae_retrain", af_rvae={"promotion": {"margin": 1.0}})
    second = json.loads(_latest(project / "data/08_reporting/af_rvae/promotion_decision.json").read_text())
    champion = json.loads(_latest(project / "data/08_reporting/af_rvae/champion_metrics.json").read_text())
    assert second["promote"] is False and second["champion_version"] == "1" and second["margin"] == 1.0
    assert champion["version"] == "1" and 0 <= champion["accuracy"] <= 1
    assert np.sum(champion["confusion_matrix"]) == 24  # the run's test patients
    assert champion_version("af_rvae", client=client) == "1"
    assert client.get_model_version("af_rvae", "2").tags["promoted"] == "false"

    _check_af_inference(project, client)


def _check_af_inference(project: Path, client) -> None:
    """The champion is a served model: episode logs in, one diagnosis per patient out, from
    the same series the pipeline made; ``af_inference`` answers as ``predict`` does, and
    bad logs are refused with the column and the problem named."""
    from mlflow.exceptions import MlflowException

    from autoencoder_pipelines.data.pacemaker import PacemakerValidationError
    from autoencoder_pipelines.registry import load_champion

    champion = load_champion("af_rvae", client=client)
    logs = champion.input_example
    assert list(logs.columns) == ["patient", "start", "end", "record_days"] and logs["patient"].nunique() == 2
    days = champion.metadata["simulation"]["days"]
    logs = pd.concat([logs, pd.DataFrame({"patient": [999], "start": [np.nan], "end": [np.nan], "record_days": [days]})])
    answer = champion.predict(logs)
    patients = sorted(int(p) for p in set(logs["patient"]))
    assert answer["patient"].tolist() == patients and set(answer["model_version"]) == {"1"}
    probabilities = answer.filter(regex=r"^probability_\d+$").to_numpy()
    assert probabilities.shape == (3, 6) and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (answer["predicted_class"] == probabilities.argmax(axis=1)).all()

    # the served preprocessing gives the pipeline's own series for the same patients
    series = np.load(_latest(project / "data/04_feature/af_rvae/burden_series.npy"))
    x = champion.model.predict(series[patients[:2]][..., np.newaxis], verbose=0)["probabilities"]
    temperature = champion.metadata["calibration"]["temperature"]  # calibrated on the validation patients
    np.testing.assert_allclose(probabilities[:2], scale_probabilities(x, temperature), rtol=1e-5, atol=1e-6)
    assert answer["ood"].dtype == bool and np.isfinite(answer["ood_score"]).all()

    # af_inference: the same answer from a file
    path = project / "episodes.csv"
    logs.to_csv(path, index=False)
    run_pipeline(project, "af_inference", episodes_file=str(path))
    diagnoses = pd.read_parquet(_latest(project / "data/07_model_output/af_inference/diagnoses.parquet"))
    pd.testing.assert_frame_equal(diagnoses, answer, check_exact=True)
    assert _latest(project / "data/08_reporting/af_inference/diagnosis_map.png").read_bytes()[:4] == b"\x89PNG"

    bad = {
        "record length": (
            logs.assign(record_days=days + 1),
            rf"row 1 \(patient \d+\), column 'record_days': {days + 1} is not {days}",
        ),
        "reversed": (logs.assign(end=logs["start"] - 1), r"row 1 \(patient \d+\): is not an episode: expected 0 <= start <= end"),
        "text": (
            logs.astype({"start": object}).assign(start=["soon"] + list(logs["start"])[1:]),
            r"row 1 \(patient \d+\), column 'start': 'soon' is not a number",
        ),
        "missing": (logs.drop(columns="record_days"), r"missing columns \['record_days'\]"),
    }
    for frame, message in bad.values():
        with pytest.raises(MlflowException, match=r"request: (\d+ problems:\n  )?" + message):
            champion.predict(frame)
    # a value no pacemaker logs: refused by the catalog's schema before any diagnosis is written
    diagnoses = project / "data/07_model_output/af_inference/diagnoses.parquet"
    before = sorted(diagnoses.iterdir())
    logs.assign(end=np.where(logs["end"].notna(), np.inf, np.nan)).to_csv(path, index=False)
    with pytest.raises(DataValidationError, match="dataset 'af_inference.episode_logs' on save") as error:
        run_pipeline(project, "af_inference", episodes_file=str(path))
    assert re.search(
        r"episodes\.csv: .*row 1 \(patient \d+\), column 'end': inf is not a finite number", str(error.value.__cause__), re.S
    )
    assert sorted(diagnoses.iterdir()) == before
    # the model's own checks name the batch pipeline's file too (one case: a Kedro run each)
    bad["record length"][0].to_csv(path, index=False)
    with pytest.raises(PacemakerValidationError, match=r"episodes.csv: (\d+ problems:\n  )?" + bad["record length"][1]):
        run_pipeline(project, "af_inference", episodes_file=str(path))


def test_gpu_environment_is_the_study_configuration_over_the_cpu_base():
    from kedro.config import OmegaConfigLoader

    from autoencoder_pipelines.settings import CONFIG_LOADER_ARGS
    from tests.pipelines.kedro_project import REPO

    def params(env):
        loader = OmegaConfigLoader(str(REPO / "conf"), env=env, **CONFIG_LOADER_ARGS)
        return loader["parameters"]["af_rvae"]

    base, gpu = params("local"), params("gpu")
    assert base["model"]["lstm_units"] == 64 and gpu["model"]["lstm_units"] == 300
    assert gpu["training"]["mixed_precision"] is True and base["training"]["mixed_precision"] is False
    # everything else comes from base: the same data and loss weights
    assert (
        gpu["simulation"] == base["simulation"]
        and gpu["model"]["classification_weight"] == base["model"]["classification_weight"]
    )
