"""Project hooks: run-scoped dataset versions, and MLflow logging driven by the catalog.

``RunVersionsHook``
    A versioned dataset that a run writes is read back, later in the same run, at the
    version that run wrote, not at whatever is newest on disk. Kedro otherwise loads the
    newest version, so two runs started at once could read each other's outputs.

``MlflowOutputsHook``
    kedro-mlflow opens one MLflow run per ``kedro run`` and logs the parameters; this hook
    tags the run with its host and process, marks ``KILLED`` the runs of this host whose
    process died without ending them, and
    logs the outputs into that run, chosen in the catalog by a ``metadata.mlflow`` entry::

        rul_vae_metrics:
          type: json.JSONDataset
          versioned: true
          metadata:
            mlflow: {log: metrics}          # metrics | json | history | figure | model, or a list

    ``metrics``: the numeric leaves of a dict (nested keys joined by "."), with an
    optional ``prefix``; ``json``: the dict as ``<dataset>.json``; ``tags``: its top-level
    words and yes/no values as run tags (a drift report's ``verdict``); ``history``: a Keras
    history, one step per epoch; ``figure``: a Matplotlib figure as ``<dataset>.png``;
    an ensemble's history (``members``) also gives one nested child run per member;
    ``trials``: a sweep's table, one nested child run per trial (its values as
    parameters, its scores as metrics);
    ``model``: a Keras model as an MLflow model named after the dataset. Kedro keeps
    versioning the files; MLflow gets a copy. With tracking disabled for a pipeline
    (``conf/<env>/mlflow.yml``), no run is active and nothing is logged.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractVersionedDataset, Version
from kedro.pipeline import Pipeline
from pydantic import BaseModel

logger = logging.getLogger(__name__)


class RunVersionsHook:
    """Pins the load version of every versioned dataset a run writes to the run's own."""

    def __init__(self) -> None:
        self._save_version: str | None = None
        self._load_versions: dict[str, str] = {}

    @hook_impl
    def after_catalog_created(self, catalog, save_version: str, load_versions: dict[str, str]) -> None:
        self._save_version = save_version
        self._load_versions = dict(load_versions or {})

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline, catalog) -> None:
        pinned = Version(load=self._save_version, save=self._save_version)
        for name in sorted(pipeline.all_outputs()):
            if name in self._load_versions or name not in catalog:
                continue
            dataset = catalog.get(name)
            if isinstance(dataset, AbstractVersionedDataset):
                # Pinned in place: replacing the catalog's entry (catalog[name] = ...) would
                # drop the dataset's declared validator with it.
                dataset._version = pinned
                dataset._clear_version_cache()


def _leaves(data: dict, prefix: str) -> dict[str, Any]:
    """Nested dict -> ``{"a.b": value}``; lists and scalars are leaves."""
    leaves: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            leaves.update(_leaves(value, f"{prefix}{key}."))
        else:
            leaves[f"{prefix}{key}"] = value
    return leaves


def _numeric_leaves(data: Any, prefix: str = "") -> dict[str, float]:
    """``{"a": {"b": 1.0}, "c": [..]}`` -> ``{"a.b": 1.0}``: numbers only, NaN/inf left out."""
    if not isinstance(data, dict):
        return {}
    return {
        key: float(value)
        for key, value in _leaves(data, prefix).items()
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    }


def _log_curves(history: dict, prefix: str) -> None:
    """The per-epoch lists of a Keras history as MLflow metrics, one step per epoch."""
    import mlflow  # noqa: PLC0415

    for key, values in history.items():
        if key == "members":
            continue
        for step, value in enumerate(values):
            if math.isfinite(value):
                mlflow.log_metric(f"{prefix}{key}", float(value), step=step)


HOST_TAG = "autoencoder_pipelines.host"
PID_TAG = "autoencoder_pipelines.pid"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def close_runs_of_dead_processes(client, experiment_id: str, current_run_id: str) -> list[str]:
    """Mark ``KILLED`` the experiment's runs still ``RUNNING`` whose ``kedro run`` process,
    on this host, is gone (killed with ``kill -9``, out of memory, a power cut): MLflow
    would otherwise show them running for good. The run started again resumes training
    from the backup in a run of its own. Runs of other hosts, and of live processes, are
    left alone. Returns the runs marked."""
    host = socket.gethostname()
    stale = client.search_runs([experiment_id], filter_string=f"attributes.status = 'RUNNING' and tags.`{HOST_TAG}` = '{host}'")
    killed = []
    for run in stale:
        pid = run.data.tags.get(PID_TAG, "")
        if run.info.run_id != current_run_id and pid.isdigit() and not _process_alive(int(pid)):
            client.set_terminated(run.info.run_id, status="KILLED")
            killed.append(run.info.run_id)
            logger.info(
                "MLflow run %s (%s) was left running by a process that no longer exists: marked KILLED.",
                run.info.run_id,
                run.info.run_name,
            )
    return killed


class MlflowOutputsHook:
    """Logs the outputs that the catalog marks with ``metadata.mlflow`` into the active run."""

    def __init__(self) -> None:
        self._catalog = None
        self._run_id: str | None = None

    @hook_impl
    def after_catalog_created(self, catalog) -> None:
        self._catalog = catalog

    # trylast: after kedro-mlflow's own hook, which opens and closes the run.
    @hook_impl(trylast=True)
    def before_pipeline_run(self) -> None:
        import mlflow  # noqa: PLC0415

        run = mlflow.active_run()
        self._run_id = run.info.run_id if run else None
        if run is not None:
            mlflow.set_tags({HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())})
            close_runs_of_dead_processes(mlflow.MlflowClient(), run.info.experiment_id, run.info.run_id)

    @hook_impl(trylast=True)
    def before_node_run(self, inputs: dict[str, Any]) -> None:
        """Typed parameters (pydantic) as one MLflow parameter per field, e.g.
        ``rul_vae.training.learning_rate``; kedro-mlflow logs each as one string."""
        import mlflow  # noqa: PLC0415

        if self._run_id is None or mlflow.active_run() is None:
            return
        flat: dict[str, Any] = {}
        for name, value in inputs.items():
            if name.startswith("params:") and isinstance(value, BaseModel):
                flat.update(_leaves(value.model_dump(mode="json"), f"{name.removeprefix('params:')}."))
        if flat:
            mlflow.log_params({k: str(v)[:6000] for k, v in flat.items()})

    @hook_impl(trylast=True)
    def after_pipeline_run(self) -> None:
        self._close_stale_run_entries()

    @hook_impl(trylast=True)
    def on_pipeline_error(self) -> None:
        self._close_stale_run_entries()

    def _close_stale_run_entries(self) -> None:
        """Work around two kedro-mlflow 2.0 / MLflow 3 issues seen when several Kedro
        sessions share a process. kedro-mlflow re-opens its run before every node; with
        MLflow 3 each re-open stacks another entry, and its single ``end_run`` leaves the
        run "active" in this process: the next session in the same process (tests,
        ``airflow dags test``, a notebook) would log into it. Once kedro-mlflow has ended
        the run, drop the rest. A run started outside Kedro (still running) is left alone."""
        import mlflow  # noqa: PLC0415

        if self._run_id is not None:
            status = mlflow.get_run(self._run_id).info.status  # one lookup: the run is over or not
            if status in ("FINISHED", "FAILED", "KILLED"):
                while (run := mlflow.active_run()) is not None and run.info.run_id == self._run_id:
                    mlflow.end_run(status)
        self._run_id = None
        # kedro-mlflow's hook is one object per process and keeps the last run id: a later
        # session of a pipeline with tracking disabled would re-open that (finished) run
        # before each node. Forget it once the run is over.
        from kedro_mlflow.framework.hooks.mlflow_hook import mlflow_hook  # noqa: PLC0415

        mlflow_hook.run_id = None

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node) -> None:
        spec = self._spec(dataset_name)
        if spec is None:
            return
        import mlflow  # noqa: PLC0415 - only where tracking is configured

        if mlflow.active_run() is None:
            return  # tracking is disabled for this pipeline
        kinds = spec.get("log")
        short_name = dataset_name.rsplit(".", 1)[-1]
        for kind in kinds if isinstance(kinds, list) else [kinds]:
            self._log(kind, dataset_name, short_name, data, spec.get("prefix"))

    @staticmethod
    def _log(kind: str, dataset_name: str, short_name: str, data: Any, prefix: str | None) -> None:
        import mlflow  # noqa: PLC0415

        if kind == "metrics":
            mlflow.log_metrics(_numeric_leaves(data, prefix or ""))
        elif kind == "json":
            mlflow.log_dict(data, f"{short_name}.json")
        elif kind == "history":
            _log_curves(data, prefix or "epoch.")
            # An ensemble's members: one child run each, logged from this process (one
            # writer, whatever the store), after the members have trained.
            for member in data.get("members", []):
                with mlflow.start_run(run_name=f"{dataset_name}.member-{member['member']}", nested=True):
                    mlflow.log_params({"member": member["member"], "seed": member["seed"], "lead": member["lead"]})
                    _log_curves(member["history"], prefix or "epoch.")
                    if member["history"].get("val_loss"):
                        mlflow.log_metric("best_val_loss", float(min(member["history"]["val_loss"])))
        elif kind == "trials":
            # A sweep's trials: one child run each, logged from this process after the sweep.
            for row in data.to_dict("records"):
                with mlflow.start_run(run_name=f"{dataset_name}.{row['trial_id']}", nested=True):
                    numbers = {k: v for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
                    mlflow.log_params({k: str(v)[:6000] for k, v in row.items() if k not in numbers or "." in k})
                    mlflow.log_metrics({k: float(v) for k, v in numbers.items() if "." not in k and math.isfinite(v)})
        elif kind == "tags":
            # The top-level words and yes/no of a report (a drift verdict): run tags, searchable.
            mlflow.set_tags(
                {
                    f"{prefix or ''}{k}": str(v).lower() if isinstance(v, bool) else v
                    for k, v in data.items()
                    if isinstance(v, (str, bool))
                }
            )
        elif kind == "figure":
            mlflow.log_figure(data, f"figures/{short_name}.png")
        elif kind == "model":
            import mlflow.keras  # noqa: PLC0415

            from autoencoder_pipelines.serving import pip_requirements  # noqa: PLC0415

            mlflow.keras.log_model(data, name=short_name, pip_requirements=pip_requirements(code_included=False))
        else:
            raise ValueError(
                f"Catalog entry '{dataset_name}': metadata.mlflow.log must be one (or a list) of "
                f"metrics, json, tags, history, trials, figure, model; got {kind!r}."
            )

    def _spec(self, dataset_name: str) -> dict | None:
        if self._catalog is None or dataset_name not in self._catalog:
            return None
        meta = getattr(self._catalog.get(dataset_name), "metadata", None) or {}
        spec = meta.get("mlflow")
        return spec if isinstance(spec, dict) else None
