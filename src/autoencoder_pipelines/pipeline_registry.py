"""Project pipelines.

- the eight tasks, each a modular pipeline under its own namespace: ``rul_vae`` (the
  default: ``kedro run``), ``af_rvae`` and the six MNIST models;
- ``<task>_retrain`` for each: the task plus the one promotion stage
  (``pipelines.promotion``) that registers the challenger and promotes it if better;
- ``<task>_sweep`` for each: a search over the task's parameters on Ray Tune
  (``pipelines.sweep``, ``conf/base/parameters_<task>_sweep.yml``);
- ``rul_inference`` and ``af_inference``: batch scoring with the ``rul_vae`` and
  ``af_rvae`` champions;
- ``mnist``: the MNIST ingestion the six MNIST tasks share.

Defining them imports neither TensorFlow nor Keras: the deep-learning stack loads when
a node that needs it runs, so ``kedro registry list``, kedro-viz and Airflow's DAG
parsing start quickly.
"""

from __future__ import annotations

import importlib

from kedro.pipeline import Pipeline

from autoencoder_pipelines.pipelines import af_inference, mnist, rul_inference
from autoencoder_pipelines.pipelines.promotion.pipeline import retraining_pipeline
from autoencoder_pipelines.pipelines.sweep.pipeline import sweep_pipeline

TASKS = ("rul_vae", "af_rvae", "denoising_ae", "sparse_ae", "contractive_ae", "vae", "vq_vae", "vae_classifier")
DEFAULT = "rul_vae"


def register_pipelines() -> dict[str, Pipeline]:
    """The project's pipelines by name; ``__default__`` is ``rul_vae``."""
    pipelines: dict[str, Pipeline] = {}
    for task in TASKS:
        module = importlib.import_module(f"autoencoder_pipelines.pipelines.{task}.pipeline")
        pipelines[task] = module.create_pipeline()
        pipelines[f"{task}_retrain"] = retraining_pipeline(task, pipelines[task], module.champion_evaluation())
        pipelines[f"{task}_sweep"] = sweep_pipeline(task, pipelines[task])
    pipelines["rul_inference"] = rul_inference.create_pipeline()
    pipelines["af_inference"] = af_inference.create_pipeline()
    pipelines["mnist"] = mnist.create_pipeline()
    pipelines["__default__"] = pipelines[DEFAULT]
    return pipelines
