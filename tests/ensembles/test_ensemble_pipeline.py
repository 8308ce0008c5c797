"""An ensemble through Kedro: ``rul_vae_retrain`` with two members on a 2-node Ray of a CPU each,
tracked as one MLflow run with a child run per member, saved and registered as one model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from autoencoder_pipelines.evaluation import nasa_offset
from autoencoder_pipelines.models import Ensemble
from autoencoder_pipelines.registry import load_champion
from tests.conftest import write_cmapss
from tests.pipelines.kedro_project import latest, make_project, run_pipeline

TWO_MEMBERS = {"training": {"restarts": 1, "ensemble": {"members": 2}}}


@pytest.mark.slow
def test_a_two_member_ensemble_is_one_tracked_run_with_a_child_run_per_member(ray_cluster, tmp_path, monkeypatch):
    project = make_project(tmp_path, monkeypatch, CMAPSS_DATA_DIR=str(write_cmapss(tmp_path / "raw")))
    catalog = run_pipeline(project, "rul_vae_retrain", rul_vae=TWO_MEMBERS)
    reports = project / "data/08_reporting/rul_vae/FD001"

    # One model in the catalog, reloading to the saved predictions: the members' mean.
    model = catalog.load("rul_vae.model")
    assert isinstance(model, Ensemble) and len(model.members) == 2
    x_test = catalog.load("rul_vae.x_test")
    predictions = pd.read_parquet(latest(project / "data/07_model_output/rul_vae/FD001/test_predictions.parquet"))
    members = np.array([m.predict(x_test, verbose=0)["rul"] for m in model.members])
    np.testing.assert_allclose(predictions["predicted_rul"], members.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(predictions["rul_spread"], members.std(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predictions[["member_0_rul", "member_1_rul"]].to_numpy().T, members, rtol=1e-6)

    metrics = json.loads(latest(reports / "metrics.json").read_text())
    assert [m["seed"] for m in metrics["members"]] == model.seeds
    assert metrics["rul_spread_mean"] > 0
    # One offset for all members, fitted on the validation windows to the members' mean.
    x_val, y_val = catalog.load("rul_vae.x_val"), catalog.load("rul_vae.y_val")
    offset = nasa_offset(y_val, [m.raw_rul(x_val) for m in model.members], 0.0, 125.0)
    assert [m.config.rul_offset for m in model.members] == [offset, offset] and metrics["rul_offset"] == offset

    # MLflow: the pipeline's run, and one child run per member with its seed and curves.
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    (experiment,) = [e for e in client.search_experiments() if e.name == "autoencoder_pipelines"]
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if r.info.run_name == "rul_vae_retrain"]
    children = sorted(
        (r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id),
        key=lambda r: int(r.data.params["member"]),
    )
    assert [int(r.data.params["seed"]) for r in children] == model.seeds
    assert all(r.info.status == "FINISHED" for r in [parent, *children])
    for child in children:
        assert len(client.get_metric_history(child.info.run_id, "epoch.val_loss")) == 2  # conf/test: 2 epochs
    assert [r.data.params["lead"] == "True" for r in children] == [i == model.lead for i in range(2)]

    # Registered as one model: the champion loads as the ensemble.
    champion = load_champion("rul_vae_FD001")
    assert isinstance(champion.model, Ensemble)
    np.testing.assert_allclose(champion.model.predict(x_test, verbose=0)["rul"], predictions["predicted_rul"], rtol=1e-6)
