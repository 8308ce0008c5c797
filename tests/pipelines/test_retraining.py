"""The one promotion stage (``pipelines.promotion``), through ``<task>_retrain`` for a
recurrent and an MNIST task: a first champion, a worse challenger kept out, a better one
promoted, and a training that raises leaving the registry as it was.

Each test works in a temporary copy of the project with its own MLflow database, so the
registry starts empty.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from autoencoder_pipelines.data.mnist import scale_images
from autoencoder_pipelines.registry import (
    champion_version,
    load_champion,
    register_version,
)
from tests.conftest import write_cmapss, write_mnist
from tests.pipelines.kedro_project import latest, make_project, run_pipeline

# task -> (registered model, its reports folder, promotion metric)
TASKS = {
    "rul_vae": ("rul_vae_FD001", "data/08_reporting/rul_vae/FD001", "rmse"),
    "sparse_ae": ("sparse_ae", "data/08_reporting/sparse_ae", "mse"),
}


@pytest.fixture(params=sorted(TASKS))
def task(request, tmp_path, monkeypatch):
    """``(task, project)``: a project copy with the task's raw data generated."""
    make_project(
        tmp_path,
        monkeypatch,
        CMAPSS_DATA_DIR=str(write_cmapss(tmp_path / "cmapss")),
        MNIST_DATA_DIR=str(write_mnist(tmp_path / "mnist")),
    )
    return request.param, tmp_path


def _retrain(task: str, project, **params):
    return run_pipeline(project, f"{task}_retrain", **params)


def _decision(task: str, project) -> dict:
    return json.loads(latest(project / TASKS[task][1] / "promotion_decision.json").read_text())


def _client(project) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")


def _register_broken_champion(name: str, client: MlflowClient) -> str:
    """The champion's model with every weight set to zero (a constant output, worse on
    any test set), registered and promoted with the champion's metadata."""
    champion = load_champion(name, client=client)
    champion.model.set_weights([np.zeros_like(w) for w in champion.model.get_weights()])
    return register_version(
        champion.model,
        name,
        metadata=champion.metadata,
        tags={},
        promote=True,
        expected_champion=champion.version,
        input_example=champion.input_example,
    )


def _diverging_fit(*args, **kwargs):
    raise RuntimeError("training diverged")


def _check_served_model(task: str, champion) -> None:
    """The champion is a served (pyfunc) model that answers its own example request from
    raw inputs as its Keras model does from preprocessed ones, and refuses bad input."""
    example = champion.input_example
    answer = champion.predict(example)
    assert champion.metadata["task"] == task and champion.metadata["version"] == champion.version
    if task == "rul_vae":
        assert answer["unit_nr"].tolist() == sorted(set(example["unit_nr"]))
        assert set(answer["model_version"]) == {champion.version}
        with pytest.raises(MlflowException, match=r"request: missing columns \['s_2'\]"):
            champion.predict(example.drop(columns="s_2"))
        return
    images = np.asarray(example)
    assert images.shape == (2, 28, 28) and images.max() > 1  # raw grey levels, not scaled
    direct = champion.model.predict(scale_images(images.astype(np.uint8), champion.metadata["data"]["layout"]), verbose=0)
    np.testing.assert_array_equal(answer["reconstruction"], direct["reconstruction"].reshape(2, -1))
    np.testing.assert_array_equal(answer["code"], direct["code"].reshape(2, -1))
    too_bright = images.copy()
    too_bright[1, 3, 4] = 300
    with pytest.raises(MlflowException, match=r"image 2, pixel \(row 3, column 4\): 300 is outside the grey levels 0\.\.255"):
        champion.predict(too_bright)
    with pytest.raises(MlflowException, match=r"image 1, pixel \(row \d+, column \d+\): 0\.\d+ is not an integer grey level"):
        champion.predict(images / 255.0)  # already scaled
    with pytest.raises(MlflowException, match=r"images of shape \(2, 27, 28\)"):
        champion.predict(images[:, 1:])


@pytest.mark.slow
def test_a_first_champion_then_only_a_challenger_better_beyond_seed_noise_is_promoted(task):
    task, project = task
    name, _, metric = TASKS[task]
    client = _client(project)

    # 1. An empty registry: the challenger becomes the first champion.
    _retrain(task, project)
    decision = _decision(task, project)
    assert decision["promote"] is True and decision["champion_version"] is None and decision["metric"] == metric
    assert champion_version(name, client=client) == "1"
    first = load_champion(name, client=client)
    assert first.tags["promoted"] == "true" and metric in first.metadata["metrics"]
    _check_served_model(task, first)

    # A training that raises stops the run before the promotion stage: the registry as it was.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("autoencoder_pipelines.training.fit.fit_model", _diverging_fit)
        with pytest.raises(RuntimeError, match="training diverged"):
            _retrain(task, project)
    assert champion_version(name, client=client) == "1"
    assert [str(v.version) for v in client.search_model_versions(f"name='{name}'")] == ["1"]

    # 2. The same data, another seed: no improvement beyond what the seed gives (the interval's
    # lower end is not above zero): registered as version 2 for the record; the champion stays.
    _retrain(task, project, **{task: {"training": {"seed": 1}}})
    decision = _decision(task, project)
    assert decision["promote"] is False and decision["champion_version"] == "1" and decision["interval"][0] <= 0.0
    assert decision["n_items"] == {"rul_vae": 6, "sparse_ae": 100}[task]  # every test item, both sides
    assert champion_version(name, client=client) == "1"
    version = client.get_model_version(name, "2")
    assert version.tags["promoted"] == "false" and version.tags["evaluation_items"] == str(decision["n_items"])
    champion_metrics = json.loads(latest(project / TASKS[task][1] / "champion_metrics.json").read_text())
    assert champion_metrics["version"] == "1" and champion_metrics[metric] == pytest.approx(decision["champion"])

    # 3. A clearly better challenger is promoted: for sparse_ae a better recipe (5 epochs, not 1),
    # for rul_vae a champion with every weight zero (a constant, late answer) to beat.
    if task == "rul_vae":
        assert _register_broken_champion(name, client) == "3" == champion_version(name, client=client)
        better = {}
    else:
        better = {task: {"training": {"epochs": 5}}}
    _retrain(task, project, **better)
    decision = _decision(task, project)
    champion = "3" if task == "rul_vae" else "1"
    assert decision["promote"] is True and decision["champion_version"] == champion and decision["interval"][0] > 0
    assert champion_version(name, client=client) == ("4" if task == "rul_vae" else "3")

    # 4. A truly worse challenger is kept out, its improvement below zero: for sparse_ae one that
    # barely trains (a learning rate 100 times lower); for rul_vae one whose every estimate is
    # 60 cycles late (an offset given instead of fitted).
    worse = {"rul_offset": {"fit": "none", "cycles": 60.0}} if task == "rul_vae" else {"training": {"learning_rate": 1e-5}}
    _retrain(task, project, **{task: worse})
    decision = _decision(task, project)
    assert decision["promote"] is False and decision["improvement"] < 0 and decision["interval"][0] < 0
    assert champion_version(name, client=client) == ("4" if task == "rul_vae" else "3")


@pytest.fixture
def tracking_server(tmp_path):
    """``mlflow server`` on 127.0.0.1 (a port the OS picks) over a migrated SQLite file:
    several processes write their runs through it, as in production (SQLite alone does
    not take concurrent writers); yields its URL."""
    import re
    import shutil
    import subprocess
    import sys
    import time

    from tests.pipelines.kedro_project import _empty_tracking_database

    database = tmp_path / "server.db"
    shutil.copy(_empty_tracking_database(), database)
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--backend-store-uri",
                f"sqlite:///{database}",
                "--artifacts-destination",
                str(tmp_path / "artifacts"),
                "-h",
                "127.0.0.1",
                "-p",
                "0",
                "--workers",
                "1",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while not (found := re.search(rb"Uvicorn running on (http://127\.0\.0\.1:\d+)", log.read_bytes())):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield found.group(1).decode()
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_two_retrainings_at_once_end_with_exactly_one_champion(tmp_path, monkeypatch, tracking_server):
    """Two `kedro run --pipeline=sparse_ae_retrain` processes on an empty registry: both
    decide to promote against "no champion"; the registry's lock lets one register first,
    and the other stops with PromotionConflict, registering nothing. (Their trainings are
    the same run: the second waits for the first's backup lock.)"""
    import subprocess
    import sys

    (tmp_path / "project").mkdir()
    project = make_project(
        tmp_path / "project",
        monkeypatch,
        MNIST_DATA_DIR=str(write_mnist(tmp_path / "mnist")),
        MLFLOW_TRACKING_URI=tracking_server,
    )
    # The project's experiment exists, as after any earlier run: two first-ever runs would race
    # to create it (the server's SQLite refuses the second insert).
    MlflowClient(tracking_uri=tracking_server).create_experiment("autoencoder_pipelines")
    command = [sys.executable, "-m", "kedro", "run", "--env=test", "--pipeline=sparse_ae_retrain"]
    runs = [subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [" ".join(run.communicate(timeout=600)[0].split()) for run in runs]  # unwrapped lines
    client = MlflowClient(tracking_uri=tracking_server)
    versions = [str(v.version) for v in client.search_model_versions("name='sparse_ae'")]
    assert champion_version("sparse_ae", client=client) == "1" and versions == ["1"], outputs
    assert sorted(run.returncode for run in runs)[0] == 0 and sorted(run.returncode for run in runs)[1] != 0, outputs
    (loser,) = [out for run, out in zip(runs, outputs) if run.returncode != 0]
    assert "PromotionConflict" in loser and "compared with champion version None, but the champion is now version 1" in loser
