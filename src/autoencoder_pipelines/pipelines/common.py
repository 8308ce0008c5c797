"""What every task shares: its stages, and the training and prediction helpers its nodes go through.

Every model of the library follows one contract (``models.ConfiguredModel``): it is
built from a typed config whose ``input_shape`` and ``seed`` come from the data and the
training parameters. :func:`fit_configured_model` completes the config, fingerprints the
run (so only a backup of the very same run is resumed) and calls the trainer.

The deep-learning stack is imported inside the functions: defining a pipeline imports
this module, and ``kedro registry list``, kedro-viz and Airflow's DAG parsing should not
load TensorFlow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from kedro.pipeline import Pipeline
from pydantic import BaseModel

from autoencoder_pipelines import models
from autoencoder_pipelines.models.config import TrainingConfig

if TYPE_CHECKING:
    from autoencoder_pipelines.models import ConfiguredModel

# Per-epoch loss terms; an ensemble's adds "members" (see fit_ensemble).
History = dict[str, list]


def stage(stage_name: str, stage_nodes: list) -> Pipeline:
    """One stage of a task (``ingestion``, ``training`` ...): a nested namespace, so
    kedro-viz draws it as a group inside the task's; dataset and parameter names are
    left to the task's namespace."""
    return Pipeline(stage_nodes, namespace=stage_name, prefix_datasets_with_namespace=False)


def fit_configured_model(
    model_name: str,
    config: BaseModel,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    training: TrainingConfig,
    *,
    sample_weight: np.ndarray | None = None,
    validation_weight: np.ndarray | None = None,
) -> tuple[ConfiguredModel, History]:
    """Fit the model registered as ``model_name`` (``models.REGISTRY``), built from
    ``config`` completed with the data's input shape and the training seed.

    Args:
        model_name: e.g. ``"vae"``, ``"recurrent_vae"``.
        config: the model's typed config from the parameters (``input_shape`` and
            ``seed`` left unset).
        x_train, y_train, x_val, y_val: inputs and targets (images, labels or RULs).
        training: the trainer's settings.
        sample_weight, validation_weight: optional per-sample weights of the training
            loss and of the monitored validation loss.

    Returns:
        The model with the weights of its best validation epoch, and its history.
    """
    from autoencoder_pipelines.training import fit_model, run_fingerprint  # noqa: PLC0415 - loads Keras

    model_class = models.model_class(model_name)
    config = config.model_copy(update={"input_shape": tuple(x_train.shape[1:]), "seed": training.seed})
    key = run_fingerprint(
        model_class.__name__,
        config.model_dump(mode="json"),
        # Where and how the members run is not what they learn: a run started again
        # with other resources (CPUs, GPUs, retries) still resumes its backups.
        training.model_dump(
            exclude={"verbose": True, "backup_dir": True, "ensemble": {"cpus_per_member", "gpus_per_member", "max_retries"}}
        ),
        x_train, y_train, x_val, y_val, sample_weight, validation_weight,
    )
    validation = (x_val, y_val) if validation_weight is None else (x_val, y_val, validation_weight)
    if training.ensemble.members == 1:
        return fit_model(
            lambda: model_class(config),
            x_train,
            y_train,
            validation,
            training,
            run_key=f"{model_class.__name__}-{key}",
            sample_weight=sample_weight,
        )
    return fit_ensemble(model_class, config, x_train, y_train, validation, training, f"{model_class.__name__}-{key}", sample_weight)


def fit_ensemble(
    model_class: type[ConfiguredModel],
    config: BaseModel,
    x_train: np.ndarray,
    y_train: np.ndarray,
    validation: tuple,
    training: TrainingConfig,
    run_key: str,
    sample_weight: np.ndarray | None = None,
    callbacks: list | None = None,
) -> tuple[models.Ensemble, History]:
    """``training.ensemble.members`` models of ``model_class`` trained on Ray
    (``training.fit_members``), as one ``models.Ensemble`` led by the member with the lowest
    validation loss.

    Returns:
        The ensemble, and the lead member's history with a ``members`` entry: per member
        its index, seed, whether it leads, and its history (each an MLflow child run).
    """
    from autoencoder_pipelines.models import Ensemble  # noqa: PLC0415 - loads Keras
    from autoencoder_pipelines.training import fit_members  # noqa: PLC0415

    members, histories, seeds = fit_members(
        lambda seed: model_class(config.model_copy(update={"seed": seed})),
        x_train, y_train, validation, training, run_key, callbacks=callbacks, sample_weight=sample_weight,
    )
    lead = int(np.argmin([min(h["val_loss"]) for h in histories]))
    history = {
        **histories[lead],
        "members": [
            {"member": i, "seed": seed, "lead": i == lead, "history": h}
            for i, (seed, h) in enumerate(zip(seeds, histories, strict=True))
        ],
    }
    return Ensemble(members, lead=lead, seeds=seeds), history


def predict_in_batches(model: ConfiguredModel, x: np.ndarray, batch_size: int = 1000) -> dict[str, np.ndarray]:
    """``model.predict`` of the dict outputs, in inference mode."""
    return model.predict(x, batch_size=batch_size, verbose=0)
