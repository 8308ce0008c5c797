"""kedro-viz draws every pipeline with its layers (no layer may depend on a later one),
and every task as one group named after it, its stages inside.

kedro-viz disables the layer view of a pipeline (with only a warning) when the layers of
its datasets form a cycle, counting the edges of the collapsible namespace groups too:
a group that reads a ``reporting`` dataset and writes a ``model_output`` one is enough.
"""

from __future__ import annotations

import logging

import pytest
from kedro.framework.project import pipelines

from tests.pipelines.kedro_project import REPO


@pytest.mark.slow
def test_every_pipeline_has_an_acyclic_layer_order():
    from kedro.framework.startup import bootstrap_project
    from kedro_viz.data_access import data_access_manager
    from kedro_viz.server import load_and_populate_data

    bootstrap_project(REPO)
    logging.getLogger("kedro_viz").setLevel(logging.ERROR)
    load_and_populate_data(REPO, include_hooks=False)
    orders, trees = {}, {}
    for name in pipelines:
        trees[name] = data_access_manager.create_modular_pipelines_tree_for_registered_pipeline(name)
        orders[name] = data_access_manager.get_sorted_layers_for_registered_pipeline(name)
    assert [name for name, layers in orders.items() if not layers] == []  # empty = a cycle
    retrain = orders["rul_vae_retrain"]
    assert retrain.index("raw") < retrain.index("models") < retrain.index("reporting") < retrain.index("registry")

    from autoencoder_pipelines.pipeline_registry import TASKS

    # Exactly one group per task in every registered pipeline: the task's own, beside the
    # group of the ingestion it reads (the shared MNIST one, or the task's own for a sweep).
    expected = {
        "__default__": {"rul_vae"},
        "mnist": {"mnist"},
        "rul_inference": {"rul_inference"},
        "af_inference": {"af_inference"},
    }
    for task in TASKS:
        ingestion = {"mnist"} if task not in ("rul_vae", "af_rvae") else set()
        expected[task] = expected[f"{task}_retrain"] = {task} | ingestion
        expected[f"{task}_sweep"] = {f"{task}_sweep"} | (ingestion or {task})
    assert set(expected) == set(pipelines)  # a new pipeline says which groups it draws
    for name, groups in expected.items():
        drawn = {child.id for child in trees[name]["__root__"].children if child.type == "modularPipeline"}
        assert drawn == groups, (name, drawn)
    for task in TASKS:
        for name in (task, f"{task}_retrain"):
            stages = {child.id for child in trees[name][task].children if child.type == "modularPipeline"}
            stage_names = {"preprocessing", "training", "evaluation"} | ({"promotion"} if name.endswith("_retrain") else set())
            assert {f"{task}.{stage}" for stage in stage_names} <= stages, (name, stages)
