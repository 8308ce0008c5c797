"""kedro-viz draws every pipeline with its layers: no layer may depend on a later one.

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
    orders = {}
    for name in pipelines:
        data_access_manager.create_modular_pipelines_tree_for_registered_pipeline(name)
        orders[name] = data_access_manager.get_sorted_layers_for_registered_pipeline(name)
    assert [name for name, layers in orders.items() if not layers] == []  # empty = a cycle
    default = orders["__default__"]
    assert default.index("raw") < default.index("models") < default.index("reporting") < default.index("registry")
