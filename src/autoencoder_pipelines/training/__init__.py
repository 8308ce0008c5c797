"""The trainer: every task's model is fitted through :func:`fit_configured_model`.

What depends on the Keras backend lives here; the models themselves are backend-agnostic:

- ``fit``: one model, seeded (``seeds``), on the devices found (``devices``: one GPU,
  several GPUs data-parallel, or the CPU), with Adam or AdamW, an optional per-epoch
  learning-rate decay, early stopping on ``val_loss`` restoring the best weights, and
  optionally several initialisations (``restarts``);
- ``backup``: the state written at the end of every epoch, so a killed run started again
  resumes where it stopped; ``batches``: the batch order and the model's noise of every
  epoch derived from ``(seed, epoch)``, so the resumed run ends exactly where an
  uninterrupted one would;
- ``ensemble``: several members trained in parallel as Ray tasks (``workers``: where Ray
  runs and how many threads a task may use), shown in one live view (``progress``);
- ``config``: the typed settings of all of it.

This module imports neither Keras nor Ray: a pipeline's ``nodes.py`` imports it, and
``kedro registry list``, kedro-viz and Airflow's DAG parsing should not load TensorFlow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel

# Per-epoch figures (loss terms for training and validation); an ensemble's adds
# "members": per member its index, seed, whether it leads, and its own history.
History = dict[str, list]

from autoencoder_pipelines.training.config import EnsembleConfig, TrainingConfig  # noqa: E402 - after History

if TYPE_CHECKING:
    from autoencoder_pipelines.models import ConfiguredModel

__all__ = ["EnsembleConfig", "History", "TrainingConfig", "fit_configured_model"]


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
    ``config`` completed with the data's input shape and the training seed: one model in
    this process, or with ``training.ensemble.members`` > 1 an ensemble trained on Ray.

    The run is fingerprinted (settings and arrays), so only a backup of the very same run
    is resumed.

    Args:
        model_name: e.g. ``"vae"``, ``"recurrent_vae"``.
        config: the model's typed config from the parameters (``input_shape`` and
            ``seed`` left unset).
        x_train, y_train, x_val, y_val: inputs and targets (images, labels or RULs).
        training: the trainer's settings.
        sample_weight, validation_weight: optional per-sample weights of the training
            loss and of the monitored validation loss.

    Returns:
        The model (or ``models.Ensemble``) with the weights of its best validation epoch,
        and its history.
    """
    from autoencoder_pipelines import models  # noqa: PLC0415
    from autoencoder_pipelines.training.seeds import run_fingerprint  # noqa: PLC0415

    model_class = models.model_class(model_name)
    config = config.model_copy(update={"input_shape": tuple(x_train.shape[1:]), "seed": training.seed})
    key = run_fingerprint(
        model_class.__name__,
        config.model_dump(mode="json"),
        # Where and how the members run is not what they learn: a run started again
        # with other resources (CPUs, GPUs, retries) or output still resumes its backups.
        training.model_dump(
            exclude={
                "verbose": True,
                "backup_dir": True,
                "ensemble": {"cpus_per_member", "gpus_per_member", "max_retries", "worker_output"},
            }
        ),
        x_train,
        y_train,
        x_val,
        y_val,
        sample_weight,
        validation_weight,
    )
    run_key = f"{model_class.__name__}-{key}"
    validation = (x_val, y_val) if validation_weight is None else (x_val, y_val, validation_weight)
    if training.ensemble.members > 1:
        from autoencoder_pipelines.training.ensemble import fit_ensemble  # noqa: PLC0415

        return fit_ensemble(model_name, config, x_train, y_train, validation, training, run_key, sample_weight)
    from autoencoder_pipelines.training.fit import fit_model  # noqa: PLC0415 - loads Keras

    return fit_model(lambda: model_class(config), x_train, y_train, validation, training, run_key, sample_weight=sample_weight)
