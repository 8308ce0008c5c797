"""``<task>_retrain``: a task's pipeline (the challenger) plus the one promotion stage.

    kedro run --pipeline=rul_vae_retrain      # or af_rvae_retrain, vae_retrain, ...

The stage is written once here and instantiated per task under the task's namespace,
so its datasets are ``<task>.champion``, ``<task>.champion_metrics``,
``<task>.promotion_decision`` and ``<task>.registration``, and its parameters
``params:<task>.promotion`` (metric, direction, margin). Only the evaluation of the
champion is the task's own: the task's ``champion_evaluation()`` gives the nodes that
score the registry's champion on this run's test data (``champion_metrics`` and
``champion_item_scores``, and figures where the task draws them) and describe the
challenger for inference (``model_metadata``). Then:

- ``decide_promotion``: the challenger against the champion by a paired bootstrap over the
  evaluation items both were scored on (``test_item_scores``, ``champion_item_scores``:
  each item's score, from the task's evaluation and its ``champion_evaluation()``);
- ``register_challenger``: the challenger is registered as a new version of the task's
  registered model (tags: the decision, the metric, the champion compared with) and
  becomes the champion only if the decision says so.

A run that fails before registration (a training that raises, bad data) never reaches
the registry.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, node, pipeline

from autoencoder_pipelines.promotion import decide
from autoencoder_pipelines.registration import register_challenger


def create_pipeline(**kwargs) -> Pipeline:
    """The task-independent nodes, with dataset names relative to the task's namespace."""
    return Pipeline(
        [
            node(
                decide,
                ["metrics", "champion_metrics", "test_item_scores", "champion_item_scores", "model_metadata", "params:promotion"],
                "promotion_decision",
                name="decide_promotion",
            ),
            node(
                register_challenger,
                ["model", "model_metadata", "metrics", "promotion_decision"],
                "registration",
                name="register_challenger",
            ),
        ]
    )


def retraining_pipeline(task: str, task_pipeline: Pipeline, champion_evaluation: Pipeline) -> Pipeline:
    """``task_pipeline`` (already namespaced ``task``) plus the promotion stage.

    Args:
        task: the task's namespace (``rul_vae``, ``vae`` ...).
        task_pipeline: the task's own pipeline, whose outputs ``<task>.model`` and
            ``<task>.metrics`` the stage compares.
        champion_evaluation: the task's nodes that produce ``champion_metrics`` and
            ``model_metadata``, names relative to the task's namespace. An input that the
            task's pipeline has outside its namespace (``cmapss_test``) stays shared.
    """
    stage = Pipeline(champion_evaluation + create_pipeline(), namespace="promotion", prefix_datasets_with_namespace=False)
    shared = champion_evaluation.inputs() & task_pipeline.datasets()
    return task_pipeline + pipeline(stage, namespace=task, inputs=shared)
