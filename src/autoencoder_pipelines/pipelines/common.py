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

History = dict[str, list[float]]


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
        training.model_dump(exclude={"verbose", "backup_dir"}),
        x_train, y_train, x_val, y_val, sample_weight, validation_weight,
    )
    validation = (x_val, y_val) if validation_weight is None else (x_val, y_val, validation_weight)
    return fit_model(
        lambda: model_class(config),
        x_train,
        y_train,
        validation,
        training,
        run_key=f"{model_class.__name__}-{key}",
        sample_weight=sample_weight,
    )


def predict_in_batches(model: ConfiguredModel, x: np.ndarray, batch_size: int = 1000) -> dict[str, np.ndarray]:
    """``model.predict`` of the dict outputs, in inference mode."""
    return model.predict(x, batch_size=batch_size, verbose=0)
