"""``<task>_sweep``: the task's ingestion, then one node that runs a search over its
parameters on Ray Tune.

    kedro run --pipeline=rul_vae_sweep       # conf/base/parameters_rul_vae_sweep.yml

Each trial trains the task's ``preprocessing`` and ``training`` stages (the same nodes
as ``kedro run --pipeline=<task>``) with the trial's parameter values, and is scored on
validation data only. Outputs, under the ``<task>_sweep`` namespace:

- ``<task>_sweep.trials``: every trial's values, validation metric, epochs and status
  (versioned; in MLflow, one child run per trial);
- ``<task>_sweep.best``: the values to put in ``conf/base`` (versioned JSON).
"""

from __future__ import annotations

import functools
import warnings

from kedro.pipeline import Pipeline, node, pipeline

from autoencoder_pipelines.pipelines.sweep.nodes import run_sweep

TRIAL_STAGES = ("preprocessing", "training")


def trial_pipeline(task: str, task_pipeline: Pipeline) -> Pipeline:
    """What one trial runs: the task's preprocessing and training nodes up to its history."""
    names = [n.name for n in task_pipeline.nodes if any(n.name.startswith(f"{task}.{s}.") for s in TRIAL_STAGES)]
    return task_pipeline.only_nodes(*names).to_outputs(f"{task}.training_history")


def sweep_pipeline(task: str, task_pipeline: Pipeline) -> Pipeline:
    """The task's nodes that produce the trials' data inputs (its ingestion), plus the sweep."""
    trial = trial_pipeline(task, task_pipeline)
    data_names = sorted(name for name in trial.inputs() if not name.startswith("params:"))
    upstream = task_pipeline.to_outputs(*(d for d in data_names if d in task_pipeline.all_outputs()))
    with warnings.catch_warnings():
        # The trial's inputs are the task's namespaced datasets (af_rvae.burden_series);
        # Kedro warns about dotted names on a node not (yet) in their namespace.
        warnings.filterwarnings("ignore", "One or more dataset names contain '.'", UserWarning)
        sweep = node(
            functools.update_wrapper(functools.partial(run_sweep, task=task, trial=trial, data_names=data_names), run_sweep),
            ["params:sweep", "parameters", *data_names],
            ["trials", "best"],
            name="run_sweep",
        )
    namespaced = pipeline(
        [sweep],
        namespace=f"{task}_sweep",
        inputs=set(data_names),
        parameters={"params:sweep": f"params:{task}_sweep", "parameters": "parameters"},
    )
    return upstream + namespaced
