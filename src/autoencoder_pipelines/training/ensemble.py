"""Ensembles: members trained in parallel as Ray tasks, one live view of them here.

Imports neither Keras nor Ray at module level: a worker unpickles :func:`_fit_member`
from here and quiets TensorFlow's start-up before it loads the deep-learning stack.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from autoencoder_pipelines.training import History
from autoencoder_pipelines.training.config import TrainingConfig
from autoencoder_pipelines.training.seeds import member_seeds

logger = logging.getLogger(__name__)


def fit_ensemble(
    model_name: str,
    config: BaseModel,
    x_train: np.ndarray,
    y_train: np.ndarray,
    validation: tuple,
    training: TrainingConfig,
    run_key: str,
    sample_weight: np.ndarray | None = None,
    callbacks: list | None = None,
):
    """``training.ensemble.members`` models trained on Ray, as one ``models.Ensemble`` led
    by the member with the lowest validation loss.

    Member ``i`` is ``model_name`` built from ``config`` with the ``i``-th seed of
    :func:`~autoencoder_pipelines.training.seeds.member_seeds` (its own noise) and trained
    with that seed, its epoch backup in ``training.backup_dir / f"{run_key}-member{i}"``.

    Ray: an existing cluster when ``RAY_ADDRESS`` is set (or Ray is already initialised in
    this process), else a local Ray started here on all the machine's CPUs and stopped
    after. Each member reserves ``cpus_per_member`` CPUs and its worker runs that many
    compute threads. A member whose worker dies is started again (``max_retries``) and
    resumes from its backup: on a cluster, ``backup_dir`` must be storage every node sees.

    While they train, one live table here shows each member's epoch, validation loss, best
    so far, elapsed time and resume (``training.progress``); with
    ``ensemble.worker_output`` the workers' own output is printed too.

    Args:
        callbacks: extra Keras callbacks of every member, pickled to the workers.
        Others: as :func:`~autoencoder_pipelines.training.fit_configured_model`.

    Returns:
        The ensemble, and the lead member's history with a ``members`` entry: per member
        its index, seed, whether it leads, and its history (each an MLflow child run).
    """
    import ray  # noqa: PLC0415 - only ensembles need Ray
    from ray.util.queue import Queue  # noqa: PLC0415

    from autoencoder_pipelines import models  # noqa: PLC0415
    from autoencoder_pipelines.models.base import dtype_policy  # noqa: PLC0415 - loads Keras
    from autoencoder_pipelines.training.progress import ProgressView  # noqa: PLC0415
    from autoencoder_pipelines.training.workers import ray_runtime, thread_limits  # noqa: PLC0415

    ensemble = training.ensemble
    seeds = member_seeds(training.seed, ensemble.members)
    with ray_runtime(worker_output=ensemble.worker_output):
        task = ray.remote(_fit_member).options(
            num_cpus=ensemble.cpus_per_member,
            num_gpus=ensemble.gpus_per_member,
            max_retries=ensemble.max_retries,
            runtime_env={"env_vars": thread_limits(ensemble.cpus_per_member)},
        )
        shared = [ray.put(a) for a in (x_train, y_train, validation, sample_weight)]
        queue = Queue(actor_options={"num_cpus": 0})
        # Workers may run in another directory (or machine): the backups' path made absolute.
        member_training = training.model_copy(
            update={
                "backup_dir": Path(training.backup_dir).resolve(),
                "ensemble": ensemble.model_copy(update={"members": 1}),
                "verbose": training.verbose if ensemble.worker_output else 0,
            }
        )
        refs = [
            task.remote(
                model_name,
                config.model_copy(update={"seed": seed}),
                shared[0],
                shared[1],
                shared[2],
                member_training.model_copy(update={"seed": seed}),
                f"{run_key}-member{i}",
                callbacks,
                shared[3],
                queue,
                i,
            )
            for i, seed in enumerate(seeds)
        ]
        logger.info(
            "Training %d ensemble members on Ray (%s CPUs), %d CPU(s) each; seeds %s.",
            len(seeds),
            ray.cluster_resources().get("CPU"),
            ensemble.cpus_per_member,
            seeds,
        )
        try:
            with ProgressView("Ensemble members", "member", "seed") as view:
                for i, seed in enumerate(seeds):
                    view.add(i, str(seed), training.epochs)
                pending = list(refs)
                while pending:
                    done, pending = ray.wait(pending, num_returns=len(pending), timeout=0.5)
                    for event in queue.get_nowait_batch(queue.qsize()):
                        view.update(event)
                    for ref in done:
                        view.finished(refs.index(ref), f"done, {len(ray.get(ref)[1]['val_loss'])} epochs")
            results = ray.get(refs)
        finally:
            ray.kill(queue.actor)  # also when a member fails: an existing Ray outlives this run
    members, histories = [], []
    model_class = models.model_class(model_name)
    for i, seed in enumerate(seeds):
        weights, history = results[i]
        with dtype_policy(training.dtype_policy):
            member = model_class(config.model_copy(update={"seed": seed}))
        member.set_weights(weights)
        members.append(member)
        histories.append(history)
        logger.info("Member %d (seed %d): best %s %.4g.", i, seed, training.monitor, min(history[training.monitor]))
    lead = int(np.argmin([min(h[training.monitor]) for h in histories]))
    history = {
        **histories[lead],
        "members": [
            {"member": i, "seed": seed, "lead": i == lead, "history": h}
            for i, (seed, h) in enumerate(zip(seeds, histories, strict=True))
        ],
    }
    return models.Ensemble(members, lead=lead, seeds=seeds), history


def _fit_member(
    model_name, config, x_train, y_train, validation, training, run_key, callbacks, sample_weight, queue, member
) -> tuple[list[np.ndarray], History]:
    """One member, in a Ray worker: returns its weights (Keras objects stay in the process
    that made them) and history. TensorFlow's start-up lines are kept off the terminal,
    as in the driver (``quiet_startup``)."""
    from autoencoder_pipelines import quiet_startup  # noqa: PLC0415

    quiet_startup.install()
    from autoencoder_pipelines import models  # noqa: PLC0415 - loads Keras from here on
    from autoencoder_pipelines.training.fit import fit_model  # noqa: PLC0415
    from autoencoder_pipelines.training.progress import ProgressReport  # noqa: PLC0415

    model_class = models.model_class(model_name)
    model, history = fit_model(
        lambda: model_class(config),
        x_train,
        y_train,
        validation,
        training,
        run_key,
        callbacks=[ProgressReport(queue, member), *(callbacks or [])],
        sample_weight=sample_weight,
    )
    return [np.asarray(w) for w in model.get_weights()], history
