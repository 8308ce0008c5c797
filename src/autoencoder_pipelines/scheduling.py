"""When a scheduled retraining has something new to learn from: the rule its Airflow DAG
checks first, and the arrivals its watcher announces.

The rule (``retraining_check``), for ``<task>_retrain``:

- no champion yet: retrain;
- a dated partition arrived that no registered version (the champion, or a challenger kept
  out) was trained or evaluated on, and that is not quarantined (the same file, byte for
  byte, as a report beside it names): retrain;
- the newest drift report of a batch this champion scored recommends retraining: retrain;
- otherwise nothing is new: record that (an MLflow run ``<task>_retrain check``, tagged
  ``retrain: false`` and the reason) and do not retrain.

Tasks without arrivals (the MNIST tasks) retrain on their schedule: a new seed's challenger,
promoted only past the paired test.

Nothing here is imported by a pipeline; the DAGs call it in their first task.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Watched:
    """What a retraining pipeline learns from: its arrivals dataset and the files of a
    partition it trains on, its champion dataset, and the drift report of its scored batches."""

    arrivals: str
    quarantine: str
    suffix: Callable[[dict], str]  # the parameters -> the name ending of the files it trains on
    champion: str
    drift_report: str


WATCHED = {
    "rul_vae_retrain": Watched(
        "cmapss_arrivals",
        "cmapss_quarantine",
        lambda params: f"failed_{_field(params['rul_vae']['data'], 'subset')}.txt",
        "rul_vae.champion",
        "rul_inference.drift_report",
    ),
    "af_rvae_retrain": Watched(
        "af_arrivals", "af_quarantine", lambda params: "labelled.csv", "af_rvae.champion", "af_inference.drift_report"
    ),
}


def _field(block, name: str):
    """A parameter block's field: Kedro gives typed blocks (pydantic models) or dicts."""
    return block[name] if isinstance(block, dict) else getattr(block, name)


def learned(registered_model: str) -> set[tuple[str, str]]:
    """``(partition, sha256[:12])`` some registered version of ``registered_model`` was trained
    or evaluated on (its ``lineage.*`` tags): a challenger that learned from a partition and
    was not promoted learned from it all the same; training again on the same data gives
    the same model."""
    from mlflow import MlflowClient  # noqa: PLC0415

    known = set()
    for version in MlflowClient().search_model_versions(f"name='{registered_model}'"):
        for key in ("lineage.train", "lineage.evaluation"):
            for entry in filter(None, version.tags.get(key, "").split(";")):
                partition, _, digest = entry.rpartition("@")
                known.add((partition, digest))
    return known


def new_partitions(partitions: dict[str, Any], suffix: str, known: set[tuple[str, str]], quarantine: dict[str, str]) -> list[str]:
    """The partitions (files ending with ``suffix``) that no registered version learned from
    (``known``: partition and sha256 prefix) and no quarantine report holds, with these very bytes."""
    fresh = []
    for partition, load in sorted(partitions.items()):
        if partition.endswith(suffix):
            digest = hashlib.sha256(load()).hexdigest()
            if (partition, digest[:12]) not in known and quarantine.get(partition) != digest:
                fresh.append(partition)
    return fresh


def quarantine_reports(reports: dict[str, Any]) -> dict[str, str]:
    """``{partition: sha256}`` of the quarantine reports (a partitioned dataset's load:
    report id -> load function)."""
    return {report["partition"]: report["sha256"] for report in (load() for load in reports.values())}


def retraining_check(project_path: Path, pipeline: str, env: str | None = None) -> dict[str, Any]:
    """Whether ``pipeline`` (``<task>_retrain``) has something new to learn from, by the rule
    of the module's docstring; recorded as an MLflow run either way.

    Returns:
        ``retrain`` (bool), ``reason``, ``new_partitions``, ``champion_version``.
    """
    from kedro.framework.project import configure_project  # noqa: PLC0415
    from kedro.framework.session import KedroSession  # noqa: PLC0415

    project_path = Path(project_path)
    previous = Path.cwd()
    os.chdir(project_path)  # the configuration's relative paths are the project's
    try:
        configure_project("autoencoder_pipelines")
        with KedroSession.create(project_path=project_path, env=env) as session:
            context = session.load_context()
            config = context.config_loader["mlflow"]
            import mlflow  # noqa: PLC0415

            mlflow.set_tracking_uri(config["server"]["mlflow_tracking_uri"])  # the registry it reads, the run it writes
            result = _check(context.catalog, context.params, pipeline)
            _record(pipeline, result, config)
    finally:
        os.chdir(previous)
    logger.info("%s: %s", pipeline, result["reason"])
    return result


def arrived_partitions(project_path: Path, dataset: str, env: str | None = None) -> list[str]:
    """The partition ids of an arrivals dataset of the project's catalog (``cmapss_arrivals``):
    what the arrivals watcher compares with what it announced before."""
    from kedro.framework.project import configure_project  # noqa: PLC0415
    from kedro.framework.session import KedroSession  # noqa: PLC0415

    project_path = Path(project_path)
    previous = Path.cwd()
    os.chdir(project_path)
    try:
        configure_project("autoencoder_pipelines")
        with KedroSession.create(project_path=project_path, env=env) as session:
            return sorted(session.load_context().catalog.load(dataset))
    finally:
        os.chdir(previous)


def validate_on_arrival(project_path: Path, pipeline: str, env: str | None = None) -> dict[str, str]:
    """Run ``pipeline``'s ingestion stage (``<task>.ingestion``): every arrived partition is
    checked against its schema and a failing one quarantined, its report written beside it
    and logged to MLflow, as any run of the pipeline would. Returns ``{partition: sha256}``
    of the quarantined partitions."""
    from kedro.framework.project import configure_project  # noqa: PLC0415
    from kedro.framework.session import KedroSession  # noqa: PLC0415

    watched = WATCHED[pipeline]
    project_path = Path(project_path)
    previous = Path.cwd()
    os.chdir(project_path)
    try:
        configure_project("autoencoder_pipelines")
        with KedroSession.create(project_path=project_path, env=env) as session:
            session.run(pipeline_names=[pipeline], namespaces=[pipeline.removesuffix("_retrain") + ".ingestion"])
        with KedroSession.create(project_path=project_path, env=env) as session:
            return quarantine_reports(session.load_context().catalog.load(watched.quarantine))
    finally:
        os.chdir(previous)


def _check(catalog, params: dict, pipeline: str) -> dict[str, Any]:
    watched = WATCHED.get(pipeline)
    if watched is None:
        return {
            "retrain": True,
            "reason": f"{pipeline} learns from no arrivals: it retrains on its schedule",
            "new_partitions": [],
            "champion_version": None,
        }
    champion = catalog.load(watched.champion)
    if champion is None:
        return {"retrain": True, "reason": "no champion yet", "new_partitions": [], "champion_version": None}
    suffix = watched.suffix(params)
    reports = quarantine_reports(catalog.load(watched.quarantine))
    known = learned(catalog.get(watched.champion).registered_model_name)
    fresh = new_partitions(catalog.load(watched.arrivals), suffix, known, reports)
    if fresh:
        return {
            "retrain": True,
            "reason": f"new arrivals since champion version {champion.version}: {fresh}",
            "new_partitions": fresh,
            "champion_version": champion.version,
        }
    drift = catalog.load(watched.drift_report) if catalog.exists(watched.drift_report) else None
    if drift and drift.get("retraining_recommended") and str(drift.get("model_version")) == str(champion.version):
        return {
            "retrain": True,
            "reason": f"the newest drift report of batches champion version {champion.version} "
            f"scored recommends retraining ({_drift_evidence(drift)})",
            "new_partitions": [],
            "champion_version": champion.version,
        }
    return {
        "retrain": False,
        "reason": f"nothing new since champion version {champion.version}: no new arrival, "
        "no drift report recommending retraining",
        "new_partitions": [],
        "champion_version": champion.version,
    }


def _drift_evidence(drift: dict) -> str:
    """What a drift report that recommends retraining rests on; a report written before the
    verdict became the flagged-items test has only the share of moved features."""
    if "flagged" in drift:
        return f"{drift['flagged']} of its {drift['n_current']} items out of distribution, {drift['expected_flag_rate']:.0%} expected"
    return f"{drift['drifted_share']:.0%} of its features drifted, by the former rule"


def _record(pipeline: str, result: dict[str, Any], config: dict) -> None:
    """The check as an MLflow run of the project's experiment (``mlflow.yml``), tagged with
    its outcome."""
    import mlflow  # noqa: PLC0415

    mlflow.set_experiment(config["tracking"]["experiment"]["name"])
    with mlflow.start_run(run_name=f"{pipeline} check"):
        mlflow.set_tags(
            {
                "retrain": str(result["retrain"]).lower(),
                "reason": result["reason"][:4000],
                "new_partitions": ";".join(result["new_partitions"])[:4000] or "none",
            }
        )
