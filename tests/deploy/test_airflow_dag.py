"""The Airflow DAG that kedro-airflow generates from ``deploy/airflow/dag_template.j2``.

Airflow runs in subprocesses with their own ``AIRFLOW_HOME`` (a SQLite metadata
database in the test's folder), so the test process never imports or configures it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autoencoder_pipelines.registry import champion_version
from autoencoder_pipelines.scheduling import retraining_check
from tests.conftest import make_engines, to_text, write_cmapss
from tests.pipelines.kedro_project import REPO, make_project

DAG_ID = "autoencoder_pipelines_rul_vae_retrain"
STAGES = ["ingestion", "preprocessing", "training", "evaluation", "promotion"]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """A project copy with raw data, its DAG generated into ``dags/``, an Airflow home;
    made once for the module (``kedro airflow create`` starts Kedro in a subprocess)."""
    tmp_path = tmp_path_factory.mktemp("deployment")
    (tmp_path / "project").mkdir()
    with pytest.MonkeyPatch.context() as monkeypatch:
        project = make_project(
            tmp_path / "project",
            monkeypatch,
            CMAPSS_DATA_DIR=str(write_cmapss(tmp_path / "raw")),
            CMAPSS_ARRIVALS_DIR=str(tmp_path / "arrivals"),
            AUTOENCODER_PIPELINES_ENV="test",
        )
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "kedro",
                "airflow",
                "create",
                "--pipelines=rul_vae_retrain",
                "--env=test",
                f"--jinja-file={REPO / 'deploy/airflow/dag_template.j2'}",
                f"--target-dir={tmp_path / 'dags'}",
                f"--params=project_path={project}",
            ],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        shutil.copy(REPO / "deploy/airflow/arrivals_dag.py", tmp_path / "dags")  # the arrivals watcher
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(tmp_path / "airflow_home"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AUTOENCODER_PIPELINES_PROJECT": str(project),
        }
        yield project, tmp_path / "dags", env


def _airflow(env, *args, cwd) -> subprocess.CompletedProcess:
    airflow = Path(sys.executable).parent / "airflow"
    return subprocess.run([str(airflow), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


INSPECT = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags.get(sys.argv[2])
print(json.dumps({
    "errors": {k: str(v)[-500:] for k, v in bag.import_errors.items()},
    "dag_ids": sorted(bag.dag_ids),
    "tasks": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks} if dag else None,
    "schedule": type(dag.timetable).__name__ if dag else None,
    "schedule_description": f"{dag.timetable.timetable!r} {dag.timetable.asset_condition!r}" if dag else None,
    "max_active_runs": dag.max_active_runs if dag else None,
    "catchup": dag.catchup if dag else None,
}))
"""


@pytest.mark.slow
def test_generated_dag_imports_with_one_task_per_stage_and_the_configured_schedule(deployment, tmp_path):
    _, dags, env = deployment
    result = subprocess.run(
        [sys.executable, "-c", INSPECT, str(dags), DAG_ID],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    dag = json.loads(result.stdout.strip().splitlines()[-1])
    assert dag["errors"] == {}
    assert dag["dag_ids"] == ["autoencoder_pipelines_arrivals", DAG_ID]  # the pipeline's own id, and the watcher's
    assert dag["tasks"] == {
        "check_for_new_data": [],  # the retraining rule first: nothing new, every stage skipped
        "rul_vae__ingestion": ["check_for_new_data"],
        "rul_vae__preprocessing": ["rul_vae__ingestion"],
        "rul_vae__training": ["rul_vae__preprocessing"],
        "rul_vae__calibration": ["rul_vae__preprocessing", "rul_vae__training"],
        "rul_vae__evaluation": ["rul_vae__calibration", "rul_vae__preprocessing", "rul_vae__training"],
        "rul_vae__promotion": [
            "rul_vae__calibration",
            "rul_vae__evaluation",
            "rul_vae__ingestion",
            "rul_vae__preprocessing",
            "rul_vae__training",
        ],
    }
    # conf/base/airflow.yml: weekly, or when engines arrive (the watcher's asset), and never two retrainings at once
    assert dag["schedule"] == "AssetOrTimeSchedule" and "expression='0 0 * * 0'" in dag["schedule_description"]  # @weekly
    assert "Asset(name='autoencoder_pipelines.cmapss_arrivals'" in dag["schedule_description"]
    assert dag["max_active_runs"] == 1 and dag["catchup"] is False


@pytest.mark.slow
def test_dag_runs_the_retraining_end_to_end_under_airflow(deployment, tmp_path):
    project, _, env = deployment
    migrate = _airflow(env, "db", "migrate", cwd=tmp_path)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    # From another working directory: the DAG finds the project by its own path.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = _airflow(env, "dags", "test", DAG_ID, "2026-01-05", cwd=elsewhere)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-5000:]
    assert "state=success" in output and "DagRun Finished" in output
    for stage in STAGES:
        assert f"rul_vae__{stage}" in output
    assert "rul_vae_retrain: retraining: no champion yet" in output
    # The retraining registered the first champion in the project's registry ...
    assert champion_version("rul_vae_FD001", client=_client(project)) == "1"
    # ... and wrote its versioned outputs under the project, not the working directory.
    assert any((project / "data/08_reporting/rul_vae/FD001/promotion_decision.json").iterdir())
    assert not (elsewhere / "data").exists()

    # Run again with nothing new: the check records it and every stage is skipped.
    run = _airflow(env, "dags", "test", DAG_ID, "2026-01-12", cwd=elsewhere)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-5000:]
    assert "rul_vae_retrain: not retraining: nothing new since champion version 1" in output
    versions = _client(project).search_model_versions("name='rul_vae_FD001'")
    assert [v.version for v in versions] == ["1"] or [str(v.version) for v in versions] == ["1"]
    checks = _client(project).search_runs(
        [e.experiment_id for e in _client(project).search_experiments()],
        "attributes.run_name = 'rul_vae_retrain check'",
        order_by=["attributes.start_time ASC"],
    )
    assert [r.data.tags["retrain"] for r in checks] == ["true", "false"]

    # Engines arrive: the watcher announces them (an asset event, queueing the retraining DAG) ...
    arrivals = project.parent / "arrivals" / "2026-01-13"
    arrivals.mkdir(parents=True)
    engines, _ = make_engines(6, 40, 70, seed=9)
    (arrivals / "failed_FD001.txt").write_bytes(to_text(engines.assign(unit_nr=engines["unit_nr"] + 500)))
    assert _airflow(env, "dags", "reserialize", cwd=elsewhere).returncode == 0
    assert _airflow(env, "dags", "unpause", DAG_ID, cwd=elsewhere).returncode == 0  # only active DAGs are queued
    watch = _airflow(env, "dags", "test", "autoencoder_pipelines_arrivals", "2026-01-13", cwd=elsewhere)
    assert watch.returncode == 0, (watch.stdout + watch.stderr)[-5000:]
    assert "cmapss_arrivals: 1 new partition(s): ['2026-01-13/failed_FD001.txt']" in watch.stdout + watch.stderr
    queued = subprocess.run([sys.executable, "-c", QUEUED], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert json.loads(queued.stdout.strip().splitlines()[-1]) == [DAG_ID], (queued.stdout + queued.stderr)[-3000:]
    # ... and the retraining it queued has something new to learn from: the rule its first task
    # applies (run under Airflow above; here in this process, as the DAG calls it) names the arrival.
    # That a retraining learns from arrivals and records them in its lineage: tests/pipelines/test_arrivals.py.
    check = retraining_check(project, "rul_vae_retrain", "test")
    assert check["retrain"] is True and check["new_partitions"] == ["2026-01-13/failed_FD001.txt"], check
    assert check["reason"] == "new arrivals since champion version 1: ['2026-01-13/failed_FD001.txt']"


QUEUED = """
import json
from sqlalchemy import select
from airflow.models.asset import AssetDagRunQueue, AssetEvent
from airflow.utils.session import create_session
with create_session() as session:
    print("events:", session.scalars(select(AssetEvent.id)).all())
    print(json.dumps(sorted(session.scalars(select(AssetDagRunQueue.target_dag_id)).all())))
"""


def _client(project):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
