"""The arrivals watcher: announces new dated partitions as Airflow asset events.

Copy this file into Airflow's ``dags_folder`` beside the generated DAGs (deploy/airflow/README.md).
Every 15 minutes, for each arrivals dataset of the project's catalog, it lists the partitions
(``<date>/<file>``); those not seen before (the Airflow Variable ``<asset>.seen``) are
validated on arrival (the retraining pipeline's ingestion stage: a partition that breaks the
schema is quarantined, its report beside it and in MLflow), and if any was accepted it
updates the asset: the DAGs scheduled on it
(``rul_vae_retrain``: ``arrivals_asset`` in conf/<env>/airflow.yml) then run, and their first
task decides whether there is something new to learn from
(``autoencoder_pipelines.scheduling.retraining_check``). A producer that can call Airflow's
REST API may instead post the asset event itself when it delivers.

The project: ``AUTOENCODER_PIPELINES_PROJECT`` (its folder on the workers) and
``AUTOENCODER_PIPELINES_ENV`` (the Kedro environment, default none).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

from airflow.sdk import Asset, Variable, dag, task

# asset name -> the catalog's arrivals dataset it stands for, and the pipeline that trains on it
WATCHED = {"autoencoder_pipelines.cmapss_arrivals": ("cmapss_arrivals", "rul_vae_retrain")}


@dag(
    dag_id="autoencoder_pipelines_arrivals",
    description="Announce newly arrived data partitions as asset events",
    start_date=datetime(2026, 1, 1),
    schedule=timedelta(minutes=15),
    max_active_runs=1,
    catchup=False,
    tags=["kedro", "arrivals"],
)
def autoencoder_pipelines_arrivals():
    for asset_name, (dataset, pipeline) in WATCHED.items():

        @task.short_circuit(task_id=f"new_{dataset}")
        def new_partitions(dataset: str = dataset, asset_name: str = asset_name) -> list[str]:
            from autoencoder_pipelines.scheduling import arrived_partitions

            seen = set(json.loads(Variable.get(f"{asset_name}.seen", default="[]")))
            fresh = [p for p in arrived_partitions(_project(), dataset, _env()) if p not in seen]
            print(f"{dataset}: {len(fresh)} new partition(s): {fresh}")
            return fresh  # empty: nothing to validate or announce, the next tasks are skipped

        @task.short_circuit(task_id=f"validate_{dataset}")
        def validate(fresh: list[str], pipeline: str = pipeline, asset_name: str = asset_name) -> list[str]:
            from autoencoder_pipelines.scheduling import validate_on_arrival

            quarantined = validate_on_arrival(_project(), pipeline, _env())
            seen = set(json.loads(Variable.get(f"{asset_name}.seen", default="[]")))
            Variable.set(f"{asset_name}.seen", json.dumps(sorted(seen | set(fresh))))
            accepted = [p for p in fresh if p not in quarantined]
            print(f"{asset_name}: accepted {accepted}, quarantined {sorted(set(fresh) & set(quarantined))}")
            return accepted  # none accepted: nothing to announce

        @task(task_id=f"announce_{dataset}", outlets=[Asset(asset_name)])
        def announce(accepted: list[str], asset_name: str = asset_name) -> None:
            print(f"{asset_name}: announced {accepted}")

        announce(validate(new_partitions()))


def _project() -> str:
    project = os.environ.get("AUTOENCODER_PIPELINES_PROJECT", "")
    if not project:
        raise RuntimeError("Set AUTOENCODER_PIPELINES_PROJECT to the Kedro project's folder on the workers.")
    return project


def _env() -> str | None:
    return os.environ.get("AUTOENCODER_PIPELINES_ENV") or None


autoencoder_pipelines_arrivals()
