"""Helpers of the training and evaluation nodes of every pipeline built on a configured model."""

from __future__ import annotations

import keras
import numpy as np
from pydantic import BaseModel

from autoencoder_pipelines.models import TrainingConfig, fit_model
from autoencoder_pipelines.models.training import run_fingerprint


def fit_configured_model(
    model_class: type[keras.Model],
    architecture: BaseModel,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    training: TrainingConfig,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Fit ``model_class`` built from ``architecture`` (completed with the data's input
    shape and the training seed); ``y`` is the target: images or labels."""
    config = architecture.model_copy(update={"input_shape": tuple(x_train.shape[1:]), "seed": training.seed})
    key = run_fingerprint(
        model_class.__name__,
        config.model_dump(mode="json"),
        training.model_dump(exclude={"verbose", "backup_dir"}),
        x_train, y_train, x_val, y_val,
    )
    return fit_model(
        lambda: model_class(config),
        x_train,
        y_train,
        (x_val, y_val),
        training,
        run_key=f"{model_class.__name__}-{key}",
    )


def predict_in_batches(model: keras.Model, x: np.ndarray, batch_size: int = 1000) -> dict[str, np.ndarray]:
    """``model.predict`` of the dict outputs, in inference mode."""
    return model.predict(x, batch_size=batch_size, verbose=0)
