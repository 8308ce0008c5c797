"""The sweep node: trials of a task's preprocessing and training on Ray Tune, scored on validation.

A trial is the task's own Kedro slice (its ``preprocessing`` and ``training`` stages, up
to ``<task>.training_history``), run by Kedro's ``SequentialRunner`` in memory in a Ray
worker, with the parameters overridden by the trial's values and validated by Kedro's
parameter validator exactly as ``kedro run`` validates them. The slice's data inputs (the
ingested tables) are read once by the sweep pipeline and shared through Ray's object store.
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline

from autoencoder_pipelines.pipelines.sweep.config import Domain, SweepConfig
from autoencoder_pipelines.pipelines.sweep.space import check_space, lookup, override

logger = logging.getLogger(__name__)


class _KeptDataset(MemoryDataset):
    """A ``MemoryDataset`` the runner does not release: the trial reads the history after the run."""

    def _release(self) -> None:
        pass


def _tune_domain(domain: Domain):
    from ray import tune  # noqa: PLC0415

    kind = domain.kind
    if kind == "grid":
        return tune.grid_search(domain.grid)
    if kind == "choice":
        return tune.choice(domain.choice)
    return {"uniform": tune.uniform, "loguniform": tune.loguniform, "randint": tune.randint}[kind](*getattr(domain, kind))


def _trial(
    config: dict, *, pipeline: Pipeline, parameters: dict, data: dict, history: str, metric: str, threads: int, progress
) -> None:
    """One trial, in a Ray worker: the slice run with ``config``'s overrides, its epochs
    reported to the driver's live view (``progress``, a Ray queue); reports the metric at
    the epoch early stopping kept."""
    from kedro.runner import SequentialRunner  # noqa: PLC0415 - configures Kedro's logging on import
    from ray import tune  # noqa: PLC0415

    from autoencoder_pipelines import quiet_startup  # noqa: PLC0415
    from autoencoder_pipelines.training.workers import thread_limits  # noqa: PLC0415

    os.environ.update(thread_limits(threads))  # before the deep-learning stack starts in this worker
    quiet_startup.install()  # TensorFlow's start-up lines off, as in the driver
    from kedro.validation.parameter_validator import ParameterValidator  # noqa: PLC0415

    from autoencoder_pipelines.training.config import TrainingConfig  # noqa: PLC0415
    from autoencoder_pipelines.training.progress import reporting_to  # noqa: PLC0415 - loads Keras

    validated = ParameterValidator({"trial": pipeline}).validate_raw_params(override(parameters, config))
    catalog = DataCatalog({name: _KeptDataset(copy_mode="assign") for name in pipeline.all_outputs()})
    for name, value in data.items():
        catalog[name] = _KeptDataset(data=value, copy_mode="assign")
    for name in pipeline.inputs():
        if name.startswith("params:"):
            catalog[name] = _KeptDataset(data=lookup(validated, name.removeprefix("params:")), copy_mode="assign")
    with reporting_to(progress, tune.get_context().get_trial_id()):
        SequentialRunner().run(pipeline, catalog)
    curves = catalog.load(history)
    (monitor,) = {
        TrainingConfig.model_validate(lookup(validated, name.removeprefix("params:"))).monitor
        for name in pipeline.inputs()
        if name.startswith("params:") and name.rsplit(".", 1)[-1].removeprefix("params:") == "training"
    }
    best = int(np.argmin(curves[monitor]))  # the epoch training kept
    if metric not in curves:
        raise KeyError(
            f"Sweep metric {metric!r} is not in the training history; it has {sorted(k for k in curves if k != 'members')}."
        )
    tune.report(
        {
            metric: float(curves[metric][best]),
            "val_loss": float(curves["val_loss"][best]),
            "best_epoch": best + 1,
            "epochs_trained": len(curves["val_loss"]),
        }
    )


def run_sweep(
    sweep: SweepConfig, parameters: dict, *data: Any, task: str, trial: Pipeline, data_names: list[str]
) -> tuple[pd.DataFrame, dict]:
    """Run the trials of ``sweep`` on Ray Tune and pick the best on validation.

    Ray: an existing cluster when ``RAY_ADDRESS`` is set or Ray is initialised already,
    else a local Ray on this machine's CPUs, stopped after.

    Returns:
        The table of all trials (one row each: its values, the metric, ``val_loss``, the
        epochs, its status and error) and the best: its trial, its value, the parameter
        values to put in ``conf/base``. With ``<task>.training.seed`` in the space, the
        best is the recipe (the other values) with the best mean over its seeds.
    """
    import ray  # noqa: PLC0415
    from ray import tune  # noqa: PLC0415
    from ray.tune.search.optuna import OptunaSearch  # noqa: PLC0415
    from ray.util.queue import Queue  # noqa: PLC0415

    from autoencoder_pipelines.pipelines.sweep.progress import ShowTrials  # noqa: PLC0415 - loads Keras and Ray Tune
    from autoencoder_pipelines.training.progress import ProgressView  # noqa: PLC0415
    from autoencoder_pipelines.training.workers import ray_runtime  # noqa: PLC0415

    check_space(sweep, parameters, trial, task)
    history = f"{task}.training_history"
    fixed = override(parameters, sweep.fixed)
    tune_config = tune.TuneConfig(
        metric=sweep.metric,
        mode=sweep.mode,
        num_samples=sweep.num_samples,
        time_budget_s=sweep.time_budget_s,
        max_concurrent_trials=sweep.max_concurrent_trials,
        search_alg=OptunaSearch(seed=sweep.seed) if sweep.search == "optuna" else None,
    )
    storage = Path(sweep.storage_dir).resolve()
    storage.mkdir(parents=True, exist_ok=True)
    name = f"{task}_sweep-{time.strftime('%Y%m%dT%H%M%S')}"
    with ray_runtime(worker_output=sweep.worker_output), ProgressView("Sweep trials", "trial", "values") as view:
        progress = Queue(actor_options={"num_cpus": 0})
        try:
            trainable = tune.with_resources(
                tune.with_parameters(
                    _trial,
                    pipeline=trial,
                    parameters=fixed,
                    data=dict(zip(data_names, data, strict=True)),
                    history=history,
                    metric=sweep.metric,
                    threads=sweep.cpus_per_trial,
                    progress=progress,
                ),
                {"cpu": sweep.cpus_per_trial, "gpu": sweep.gpus_per_trial},
            )
            results = tune.Tuner(
                trainable,
                param_space={path: _tune_domain(domain) for path, domain in sweep.domains.items()},
                tune_config=tune_config,
                run_config=tune.RunConfig(
                    name=name,
                    storage_path=str(storage),
                    verbose=1 if sweep.worker_output else 0,  # Tune's status tables; the view shows the trials
                    callbacks=[
                        ShowTrials(view, progress, lambda values: lookup(override(fixed, values), f"{task}.training.epochs"))
                    ],
                ),
            ).fit()
        finally:
            ray.kill(progress.actor)  # also when the search fails: an existing Ray outlives this run
    trials = _trials_table(results, sweep)
    return trials, best_of(trials, sweep, task)


def _trials_table(results, sweep: SweepConfig) -> pd.DataFrame:
    rows = []
    for result in results:
        metrics = result.metrics or {}
        row = {"trial_id": metrics.get("trial_id") or Path(result.path).name}
        row.update({path: _cell(result.config.get(path)) for path in sweep.domains})
        for key in dict.fromkeys([sweep.metric, "val_loss", "best_epoch", "epochs_trained"]):
            row[key] = metrics.get(key, math.nan)
        finite = isinstance(row[sweep.metric], (int, float)) and math.isfinite(row[sweep.metric])
        # "incomplete": stopped before it reported (the time budget ended the search).
        row["status"] = "error" if result.error else ("ok" if finite else "incomplete")
        row["error"] = "" if result.error is None else f"{type(result.error).__name__}: {result.error}"[:2000]
        rows.append(row)
    table = pd.DataFrame(rows).sort_values("trial_id", ignore_index=True)
    if not (table["status"] == "ok").any():
        raise RuntimeError(
            f"No trial of the sweep finished (statuses {table['status'].value_counts().to_dict()}); "
            f"the first error: {table['error'].iloc[0] or 'none'}"
        )
    return table


def _cell(value: Any) -> Any:
    """A table cell: lists (a sensor set) as their text, so the column has one type."""
    return repr(value) if isinstance(value, (list, tuple, dict)) else value


def best_of(trials: pd.DataFrame, sweep: SweepConfig, task: str) -> dict:
    """The best trial on the validation metric or, with the training seed in the space,
    the best recipe by its mean over seeds."""
    ok = trials[trials["status"] == "ok"]
    seed = f"{task}.training.seed"
    recipe = [p for p in sweep.domains if p != seed]
    ascending = sweep.mode == "min"
    if seed in sweep.domains and recipe:
        # Recipes keyed by their values' text: null (the paper's sensors) groups like any value.
        key = ok[recipe].apply(lambda row: repr(tuple(row)), axis=1)
        stats = ok.groupby(key)[sweep.metric].agg(["mean", "std", "count"])
        chosen = stats.sort_values("mean", ascending=ascending).index[0]
        rows, top = ok[key == chosen], stats.loc[chosen]
        return {
            "metric": sweep.metric,
            "mode": sweep.mode,
            "chosen_by": f"mean {sweep.metric} over {int(top['count'])} seeds",
            "value": float(top["mean"]),
            "spread": float(top["std"]) if top["count"] > 1 else 0.0,
            "trials": rows["trial_id"].tolist(),
            "seeds": [int(v) for v in rows[seed]],
            "parameters": {p: _value(sweep, p, rows[p].iloc[0]) for p in recipe},
        }
    top = ok.sort_values(sweep.metric, ascending=ascending).iloc[0]
    return {
        "metric": sweep.metric,
        "mode": sweep.mode,
        "chosen_by": f"{sweep.metric} of one trial",
        "value": float(top[sweep.metric]),
        "trials": [top["trial_id"]],
        "parameters": {p: _value(sweep, p, top[p]) for p in sweep.domains},
    }


def _value(sweep: SweepConfig, path: str, cell: Any) -> Any:
    """The parameter value behind a table cell (a list's text back to the list)."""
    domain = sweep.domains[path]
    if isinstance(cell, float) and math.isnan(cell):
        cell = None  # pandas reads a null among texts as NaN
    for candidate in domain.grid or domain.choice or []:
        if _cell(candidate) == cell:
            return candidate
    return cell.item() if hasattr(cell, "item") else cell
