"""What every task's pipeline shares: its stages."""

from __future__ import annotations

from kedro.pipeline import Pipeline


def stage(stage_name: str, stage_nodes: list) -> Pipeline:
    """One stage of a task (``ingestion``, ``training`` ...): a nested namespace, so
    kedro-viz draws it as a group inside the task's; dataset and parameter names are
    left to the task's namespace."""
    return Pipeline(stage_nodes, namespace=stage_name, prefix_datasets_with_namespace=False)
