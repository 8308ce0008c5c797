"""Project hooks: a run reads back its own versions; outputs are logged to MLflow by metadata."""

from __future__ import annotations

import json
import math

import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node
from kedro.validation import DataValidationError

from autoencoder_pipelines.hooks import (
    MlflowOutputsHook,
    RunVersionsHook,
    _numeric_leaves,
)

RUN = "2026-11-26T10.00.00.000Z"
LATER_RUN = "2026-11-26T10.00.05.000Z"  # a run started 5 s later, writing the same dataset


def _catalog(tmp_path) -> DataCatalog:
    return DataCatalog.from_config(
        {"metrics": {"type": "json.JSONDataset", "filepath": str(tmp_path / "metrics.json"), "versioned": True}},
        save_version=RUN,
    )


def _write_version(tmp_path, version: str, value) -> None:
    folder = tmp_path / "metrics.json" / version
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(value))


def _pipeline() -> Pipeline:
    return Pipeline([node(lambda: {"rmse": 1.0}, None, "metrics", name="evaluate")])


@pytest.mark.parametrize("pinned", [False, True], ids=["kedro-default", "with-hook"])
def test_a_run_reads_back_its_own_version_even_when_a_later_run_wrote_one(tmp_path, pinned):
    catalog = _catalog(tmp_path)
    if pinned:
        hook = RunVersionsHook()
        hook.after_catalog_created(catalog, save_version=RUN, load_versions={})
        hook.before_pipeline_run(run_params={}, pipeline=_pipeline(), catalog=catalog)
    _write_version(tmp_path, LATER_RUN, {"rmse": 99.0})  # the other run saved first
    catalog.save("metrics", {"rmse": 1.0})
    # Kedro alone loads the newest version on disk: the other run's output.
    assert catalog.load("metrics") == ({"rmse": 1.0} if pinned else {"rmse": 99.0})


def test_a_pinned_dataset_keeps_its_declared_validator(tmp_path):
    catalog = DataCatalog.from_config(
        {
            "metrics": {
                "type": "json.JSONDataset",
                "filepath": str(tmp_path / "metrics.json"),
                "versioned": True,
                "validator": "tests.test_hooks.refuse_negative_rmse",
            }
        },
        save_version=RUN,
    )
    hook = RunVersionsHook()
    hook.after_catalog_created(catalog, save_version=RUN, load_versions={})
    hook.before_pipeline_run(run_params={}, pipeline=_pipeline(), catalog=catalog)
    assert "metrics" in catalog.validator_specs
    with pytest.raises(DataValidationError, match="negative RMSE"):
        catalog.save("metrics", {"rmse": -1.0})


def refuse_negative_rmse(metrics: dict) -> dict:
    if metrics["rmse"] < 0:
        raise ValueError("negative RMSE")
    return metrics


def test_a_report_s_words_are_logged_as_run_tags(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    with mlflow.start_run() as run:
        MlflowOutputsHook._log(
            "tags",
            "rul_inference.drift_report",
            "drift_report",
            {"verdict": "drift", "retraining_recommended": True, "flagged_share": 0.6},
            "drift.",
        )
    tags = mlflow.get_run(run.info.run_id).data.tags
    assert tags["drift.verdict"] == "drift" and tags["drift.retraining_recommended"] == "true"
    assert "drift.flagged_share" not in tags


def test_explicit_load_versions_are_left_alone(tmp_path):
    _write_version(tmp_path, "2026-01-01T00.00.00.000Z", {"rmse": 5.0})
    catalog = DataCatalog.from_config(
        {"metrics": {"type": "json.JSONDataset", "filepath": str(tmp_path / "metrics.json"), "versioned": True}},
        load_versions={"metrics": "2026-01-01T00.00.00.000Z"},
        save_version=RUN,
    )
    hook = RunVersionsHook()
    hook.after_catalog_created(catalog, save_version=RUN, load_versions={"metrics": "2026-01-01T00.00.00.000Z"})
    hook.before_pipeline_run(run_params={}, pipeline=_pipeline(), catalog=catalog)
    assert catalog.load("metrics") == {"rmse": 5.0}


def test_numeric_leaves_flatten_nested_metrics_and_skip_the_rest():
    metrics = {"rmse": 13.2, "report": {"0": {"f1": 0.9}}, "matrix": [[1, 2]], "ok": True, "bad": math.nan, "n": 3}
    assert _numeric_leaves(metrics, "champion.") == {"champion.rmse": 13.2, "champion.report.0.f1": 0.9, "champion.n": 3.0}


def test_an_unknown_logging_kind_names_the_dataset():
    with pytest.raises(ValueError, match="Catalog entry 'x_metrics'.*got 'plot'"):
        MlflowOutputsHook._log("plot", "x_metrics", "x_metrics", {}, None)


def test_runs_left_running_by_a_dead_process_of_this_host_are_marked_killed(tmp_path):
    import os
    import socket
    import subprocess
    import sys

    from mlflow import MlflowClient

    from autoencoder_pipelines.hooks import (
        HOST_TAG,
        PID_TAG,
        close_runs_of_dead_processes,
    )

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.create_experiment("e")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = gone.stdout.strip()  # a process that has exited
    host = socket.gethostname()

    def run(tags):
        return client.create_run(experiment, tags=tags).info.run_id  # RUNNING until ended

    killed_run = run({HOST_TAG: host, PID_TAG: dead_pid})  # kill -9'd kedro run
    alive_run = run({HOST_TAG: host, PID_TAG: str(os.getpid())})  # still running here
    other_host = run({HOST_TAG: "elsewhere", PID_TAG: dead_pid})  # can't tell from here
    current = run({HOST_TAG: host, PID_TAG: dead_pid})

    assert close_runs_of_dead_processes(client, experiment, current) == [killed_run]
    status = {r: client.get_run(r).info.status for r in (killed_run, alive_run, other_host, current)}
    assert status == {killed_run: "KILLED", alive_run: "RUNNING", other_host: "RUNNING", current: "RUNNING"}
