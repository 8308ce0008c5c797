"""Helpers of the pipeline tests: a temporary copy of the project, a run, the newest version."""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

REPO = Path(__file__).resolve().parents[2]


@functools.cache
def _empty_tracking_database() -> Path:
    """An MLflow SQLite database with its tables made, once per test process: MLflow's
    schema migrations take seconds for every new database, most of a small run's time."""
    from mlflow import MlflowClient

    path = Path(tempfile.mkdtemp(prefix="mlflow-template-")) / "mlflow.db"
    # Both URIs given: a client left to its default tracking URI opens ./mlflow.db in the
    # working directory (the repository, shared by every xdist worker), and two workers
    # migrating it at once failed CI with "table _alembic_tmp_latest_metrics already exists".
    client = MlflowClient(tracking_uri=f"sqlite:///{path}", registry_uri=f"sqlite:///{path}")
    client.search_experiments()  # tracking tables
    client.search_registered_models()  # registry tables
    return path


def tracking_database(folder: Path) -> str:
    """The URI of an empty MLflow database copied into ``folder``, for a session that is not
    in a project copy (the repository's own ``mlflow.db`` is a developer's)."""
    shutil.copy(_empty_tracking_database(), folder / "mlflow.db")
    return f"sqlite:///{folder / 'mlflow.db'}"


def make_project(tmp_path: Path, monkeypatch, **env: str) -> Path:
    """The project's configuration copied into ``tmp_path`` (the package is installed),
    with ``env`` variables set, ``tmp_path`` as the working directory and its own
    MLflow tracking database ``tmp_path/mlflow.db`` (a copy of an empty one)."""
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    tracking_uri = tracking_database(tmp_path)
    shutil.copytree(REPO / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("local"))
    (tmp_path / "conf" / "local").mkdir()
    (tmp_path / "src").mkdir()  # bootstrap_project checks it exists
    # Its own MLflow database: MLflow caches a store per URI, so a relative
    # "sqlite:///mlflow.db" would keep pointing at the first test's folder.
    env = {"MLFLOW_TRACKING_URI": tracking_uri, **env}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # catalog paths (data/...) are relative to the project
    bootstrap_project(tmp_path)
    return tmp_path


class RunCatalog:
    """The catalog of a run's session, made when a test first loads from it: making one
    reads the configuration again (about a second), and most runs' tests read files."""

    def __init__(self, project: Path, runtime_params: dict):
        self._session = functools.partial(
            KedroSession.create, project_path=project, env="test", runtime_params=runtime_params or None
        )

    @functools.cached_property
    def _catalog(self):
        with self._session() as session:
            return session.load_context().catalog

    def load(self, name: str):
        return self._catalog.load(name)


def run_pipeline(project: Path, pipeline: str, **runtime_params) -> RunCatalog:
    """``kedro run --env=test --pipeline=<pipeline>``; returns the run's catalog."""
    with KedroSession.create(project_path=project, env="test", runtime_params=runtime_params or None) as session:
        session.run(pipeline_names=[pipeline])
    return RunCatalog(project, runtime_params)


def latest(folder: Path) -> Path:
    """The file of the newest version of a versioned dataset folder."""
    (version,) = sorted(folder.iterdir())[-1:]
    (path,) = version.iterdir()
    return path
