"""Run a slice of one of the project's pipelines through Kedro, in memory, and time its nodes.

What the benchmark scripts time is the pipelines' own code path: the registered pipeline
(``kedro registry``), sliced with Kedro's ``from_nodes`` / ``to_nodes``, its parameters
read and validated by the project's configuration loader (typed parameters included),
run by Kedro's ``SequentialRunner``. Only the catalog differs from ``kedro run``: the
slice's inputs (raw files, parameters) are loaded once through the project's catalog,
then every run keeps its datasets in memory, so disk writes do not enter the figures.

A hook times each node (``before_node_run`` / ``after_node_run``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

from kedro.framework.hooks import hook_impl
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

REPO = Path(__file__).resolve().parents[1]


class NodeTimer:
    """Wall-clock seconds of every node run, by node name (summed over runs)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._start: dict[str, float] = {}

    @hook_impl
    def before_node_run(self, node) -> None:
        self._start[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node) -> None:
        elapsed = time.perf_counter() - self._start.pop(node.name)
        self.seconds[node.name] = self.seconds.get(node.name, 0.0) + elapsed


class _KeptDataset(MemoryDataset):
    """A ``MemoryDataset`` the runner cannot release, so intermediate outputs stay readable."""

    def _release(self) -> None:
        pass


class PipelineSlice:
    """``pipelines[name]`` sliced to the given nodes, runnable in memory.

    Args:
        name: a registered pipeline (``rul_vae``, ``af_rvae``, ``vae`` ...).
        from_nodes, to_nodes: full node names (``rul_vae.training.train_rul_vae``).
        to_outputs: datasets the slice ends with (what they need, and no more).
        env: the configuration environment (``None``: ``local`` over ``base``).
        runtime_params: overrides, as ``kedro run --params`` gives them (nested dict).
        inputs: values for some of the slice's inputs (e.g. the arrays an earlier slice
            made); the others are loaded through the project's catalog.
    """

    def __init__(
        self,
        name: str,
        *,
        from_nodes: Iterable[str] = (),
        to_nodes: Iterable[str] = (),
        to_outputs: Iterable[str] = (),
        env: str | None = None,
        runtime_params: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> None:
        bootstrap_project(REPO)
        pipeline = pipelines[name]
        if from_nodes:
            pipeline = pipeline.from_nodes(*from_nodes)
        if to_nodes:
            pipeline = pipeline.to_nodes(*to_nodes)
        if to_outputs:
            pipeline = pipeline.to_outputs(*to_outputs)
        self.pipeline = pipeline
        given = dict(inputs or {})
        with KedroSession.create(project_path=REPO, env=env, runtime_params=runtime_params) as session:
            catalog = session.load_context().catalog
            self.inputs = {
                dataset: given[dataset] if dataset in given else catalog.load(dataset) for dataset in sorted(pipeline.inputs())
            }
        self.timer = NodeTimer()
        # Kedro logs every load and save at INFO: terminal output, not the work to time.
        logging.disable(logging.INFO)

    def run(self) -> dict[str, Any]:
        """Run the slice once on fresh in-memory datasets; returns every dataset it made."""
        outputs = self.pipeline.all_outputs()
        catalog = DataCatalog({dataset: _KeptDataset(copy_mode="assign") for dataset in outputs})
        for dataset, value in self.inputs.items():
            catalog[dataset] = value
        hooks = _create_hook_manager()
        hooks.register(self.timer)
        SequentialRunner().run(self.pipeline, catalog, hooks)
        return {dataset: catalog.load(dataset) for dataset in outputs}

    def timed_run(self) -> tuple[float, dict[str, Any]]:
        """``(seconds, outputs)`` of one run."""
        start = time.perf_counter()
        outputs = self.run()
        return time.perf_counter() - start, outputs


def node_inputs(pipeline: str, node_name: str) -> list[str]:
    """The datasets (not parameters) a node of a registered pipeline reads."""
    bootstrap_project(REPO)
    (node,) = [n for n in pipelines[pipeline].nodes if n.name == node_name]
    return [dataset for dataset in node.inputs if not dataset.startswith("params:")]


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import platform

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "processor": platform.machine(),
        "platform": platform.platform(),
    }
