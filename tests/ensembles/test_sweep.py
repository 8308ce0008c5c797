"""``<task>_sweep`` through Kedro: trials on a 2-node Ray of a CPU each, each an MLflow child run,
the best chosen on validation; and the sweep settings' errors, before any trial."""

from __future__ import annotations

import json
import logging
import re

import numpy as np
import pandas as pd
import pytest
from kedro.framework.project import pipelines
from mlflow import MlflowClient
from pydantic import ValidationError

from autoencoder_pipelines.pipelines.sweep.config import SweepConfig
from autoencoder_pipelines.pipelines.sweep.nodes import best_of
from autoencoder_pipelines.pipelines.sweep.pipeline import trial_pipeline
from autoencoder_pipelines.pipelines.sweep.space import check_space
from tests.conftest import write_cmapss
from tests.pipelines.kedro_project import latest, make_project, run_pipeline


@pytest.mark.slow
def test_a_two_trial_sweep_tracks_both_and_picks_the_lower_validation_loss(ray_cluster, tmp_path, monkeypatch):
    project = make_project(tmp_path, monkeypatch, CMAPSS_DATA_DIR=str(write_cmapss(tmp_path / "raw")))
    # the view's logger, listened to directly: the Kedro session configures logging (conf/logging.yml)
    records, handler = [], logging.Handler()
    handler.emit = records.append
    progress_log = logging.getLogger("autoencoder_pipelines.training.progress")
    progress_log.addHandler(handler)
    try:
        run_pipeline(project, "rul_vae_sweep")  # conf/test: kl_weight 1 and 5, 3 epochs fixed
    finally:
        progress_log.removeHandler(handler)

    # the live view's lines, as it logs them when it closes: a line per trial with its values,
    # every epoch its worker reported, how it ended
    line = re.compile(r"Trial \w+ \(values kl_weight=([\d.]+)\): epoch 3/3, best val_loss [\d.]+; done, 3 epochs\.")
    shown = [line.fullmatch(r.getMessage()) for r in records if r.getMessage().startswith("Trial ")]
    assert sorted(m.group(1) for m in shown if m) == ["1.0", "5.0"] and len(shown) == 2, [r.getMessage() for r in records]

    trials = pd.read_parquet(latest(project / "data/08_reporting/rul_vae/sweep_trials.parquet"))
    assert sorted(trials["rul_vae.model.kl_weight"]) == [1.0, 5.0]
    # every trial took the sweep's fixed values (3 epochs) over the task's (conf/test: 2)
    assert (trials["status"] == "ok").all() and (trials["epochs_trained"] == 3).all()
    best = json.loads(latest(project / "data/08_reporting/rul_vae/sweep_best.json").read_text())
    winner = trials.loc[trials["val_regression_loss"].idxmin()]
    assert trials["val_regression_loss"].nunique() == 2
    assert best["parameters"] == {"rul_vae.model.kl_weight": winner["rul_vae.model.kl_weight"]}
    assert best["value"] == winner["val_regression_loss"] and best["trials"] == [winner["trial_id"]]

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    (experiment,) = [e for e in client.search_experiments() if e.name == "autoencoder_pipelines"]
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if r.info.run_name == "rul_vae_sweep"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted(float(r.data.params["rul_vae.model.kl_weight"]) for r in children) == [1.0, 5.0]
    assert sorted(r.data.metrics["val_regression_loss"] for r in children) == sorted(trials["val_regression_loss"])


def test_a_trial_trains_on_training_and_validation_data_and_never_reads_the_test_labels():
    from kedro.framework.startup import bootstrap_project

    from tests.pipelines.kedro_project import REPO

    bootstrap_project(REPO)
    trial = trial_pipeline("rul_vae", pipelines["rul_vae"])
    assert {n.name.split(".")[1] for n in trial.nodes} == {"preprocessing", "training"}
    assert "cmapss_test_rul" not in trial.inputs() and "rul_vae.x_test" not in trial.all_outputs()
    assert trial.all_outputs() >= {"rul_vae.training_history", "rul_vae.x_val"}


def _sweep(**overrides) -> SweepConfig:
    values = {"space": [{"parameter": "rul_vae.model.kl_weight", "grid": [1.0, 5.0]}], "storage_dir": "s"}
    return SweepConfig(**{**values, **overrides})


def test_bad_sweep_settings_name_the_parameter():
    with pytest.raises(ValidationError, match="rul_vae.model.kl_weight.*grid domains only"):
        _sweep(space=[{"parameter": "rul_vae.model.kl_weight", "uniform": [1.0, 5.0]}])
    with pytest.raises(ValidationError, match="a list value .* needs search: grid"):
        _sweep(search="optuna", space=[{"parameter": "rul_vae.data.sensors", "choice": [["s_2"], None]}])
    with pytest.raises(ValidationError, match="exactly one of"):
        _sweep(space=[{"parameter": "rul_vae.model.kl_weight", "grid": [1.0], "choice": [2.0]}])
    with pytest.raises(ValidationError, match="low must be below high"):
        _sweep(search="optuna", space=[{"parameter": "rul_vae.training.learning_rate", "loguniform": [0.1, 0.01]}])


def test_a_space_outside_the_trials_parameters_stops_the_sweep_before_any_trial():
    from kedro.framework.startup import bootstrap_project

    from tests.pipelines.kedro_project import REPO

    bootstrap_project(REPO)
    trial = trial_pipeline("rul_vae", pipelines["rul_vae"])
    parameters = {
        "rul_vae": {"model": {"kl_weight": 1.0}, "promotion": {"margin": 0.0}, "training": {"ensemble": {"members": 1}}}
    }
    with pytest.raises(ValueError, match="'rul_vae.model.kl_wieght' is not a parameter"):
        check_space(_sweep(space=[{"parameter": "rul_vae.model.kl_wieght", "grid": [1.0]}]), parameters, trial, "rul_vae")
    with pytest.raises(ValueError, match="'rul_vae.promotion.margin' is not read by the trial"):
        check_space(_sweep(space=[{"parameter": "rul_vae.promotion.margin", "grid": [1.0]}]), parameters, trial, "rul_vae")
    with pytest.raises(ValueError, match="Sweep fixed: 'rul_vae.model.lstm_unit' is not a parameter"):
        check_space(_sweep(fixed={"rul_vae.model.lstm_unit": 8}), parameters, trial, "rul_vae")


def test_values_that_fail_the_parameter_validation_stop_the_sweep_before_any_trial(tmp_path, monkeypatch):
    from kedro.framework.session import KedroSession

    from tests.pipelines.kedro_project import make_project

    # A project copy: a session in the repository would open (and migrate) its mlflow.db.
    project = make_project(tmp_path, monkeypatch)
    with KedroSession.create(project_path=project, env="test") as session:
        parameters = session.load_context().params
    trial = trial_pipeline("rul_vae", pipelines["rul_vae"])
    one = {"rul_vae.training.ensemble.members": 1}
    check_space(
        _sweep(fixed=one, space=[{"parameter": "rul_vae.model.kl_weight", "grid": [1.0, 5.0]}]), parameters, trial, "rul_vae"
    )
    with pytest.raises(ValueError, match=r"(?s)Sweep fixed: .*batch_size.*fails the trial's parameter validation.*batch_size"):
        check_space(_sweep(fixed={**one, "rul_vae.training.batch_size": 0}), parameters, trial, "rul_vae")
    with pytest.raises(ValueError, match=r"(?s)Sweep space: rul_vae.model.kl_weight = -1.0 fails .*kl_weight"):
        check_space(
            _sweep(fixed=one, space=[{"parameter": "rul_vae.model.kl_weight", "grid": [1.0, -1.0]}]), parameters, trial, "rul_vae"
        )
    with pytest.raises(ValueError, match=r"Sweep space: rul_vae.model.encoder_dropout = 1.5 fails"):
        check_space(
            _sweep(search="optuna", fixed=one, space=[{"parameter": "rul_vae.model.encoder_dropout", "uniform": [0.0, 1.5]}]),
            parameters,
            trial,
            "rul_vae",
        )


def test_trials_that_would_train_ensembles_stop_the_sweep_before_any_trial():
    from kedro.framework.startup import bootstrap_project

    from tests.pipelines.kedro_project import REPO

    bootstrap_project(REPO)
    trial = trial_pipeline("rul_vae", pipelines["rul_vae"])
    parameters = {"rul_vae": {"model": {"kl_weight": 1.0}, "training": {"ensemble": {"members": 4}}}}
    members = "rul_vae.training.ensemble.members"
    with pytest.raises(ValueError, match=r"members = \[4\] models each; a trial trains one model"):
        check_space(_sweep(), parameters, trial, "rul_vae")
    with pytest.raises(ValueError, match=r"members = \[1, 2\] models each"):
        check_space(_sweep(space=[{"parameter": members, "grid": [1, 2]}]), parameters, trial, "rul_vae")
    check_space(_sweep(fixed={members: 1}), parameters, trial, "rul_vae")  # one member per trial: accepted
    with pytest.raises(ValidationError, match=r"fixed: \['rul_vae.model.kl_weight'\] are also in the space"):
        _sweep(fixed={"rul_vae.model.kl_weight": 2.0})


def test_with_seeds_in_the_space_the_best_recipe_has_the_best_mean_over_its_seeds():
    sweep = _sweep(
        space=[
            {"parameter": "rul_vae.model.kl_weight", "grid": [1.0, 5.0]},
            {"parameter": "rul_vae.training.seed", "grid": [42, 43]},
        ],
        metric="val_regression_loss",
    )
    trials = pd.DataFrame(
        {
            "trial_id": ["a", "b", "c", "d", "e"],
            "rul_vae.model.kl_weight": [1.0, 1.0, 5.0, 5.0, 5.0],
            "rul_vae.training.seed": [42, 43, 42, 43, 44],
            "val_regression_loss": [10.0, 30.0, 15.0, 16.0, np.nan],  # the best trial (a) is not the best recipe
            "status": ["ok", "ok", "ok", "ok", "incomplete"],  # e: stopped by the time budget
        }
    )
    best = best_of(trials, sweep, "rul_vae")
    assert best["parameters"] == {"rul_vae.model.kl_weight": 5.0}
    assert best["value"] == 15.5 and best["trials"] == ["c", "d"] and best["seeds"] == [42, 43]
    assert best["chosen_by"] == "mean val_regression_loss over 2 seeds"


def test_a_recipe_with_a_null_value_is_grouped_like_any_other():
    sweep = _sweep(
        space=[
            {"parameter": "rul_vae.data.sensors", "grid": [None, ["s_2", "s_3"]]},
            {"parameter": "rul_vae.training.seed", "grid": [42, 43]},
        ],
        metric="val_regression_loss",
    )
    trials = pd.DataFrame(
        {
            "trial_id": ["a", "b", "c", "d"],
            "rul_vae.data.sensors": [None, None, "['s_2', 's_3']", "['s_2', 's_3']"],  # as the table stores them
            "rul_vae.training.seed": [42, 43, 42, 43],
            "val_regression_loss": [10.0, 11.0, 12.0, 13.0],
            "status": "ok",
        }
    )
    best = best_of(trials, sweep, "rul_vae")
    assert best["parameters"] == {"rul_vae.data.sensors": None} and best["trials"] == ["a", "b"]
