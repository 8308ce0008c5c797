"""Fitting one model: the optimizer, early stopping, the epoch backup and restarts."""

from __future__ import annotations

import functools
import logging
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from autoencoder_pipelines.models.base import dtype_policy
from autoencoder_pipelines.run_lock import only_run_of
from autoencoder_pipelines.training import History
from autoencoder_pipelines.training.backup import EpochBackup, ResumableEarlyStopping
from autoencoder_pipelines.training.batches import EpochBatches, EpochRandomness
from autoencoder_pipelines.training.config import TrainingConfig
from autoencoder_pipelines.training.devices import Devices
from autoencoder_pipelines.training.progress import ProgressReport, reporters
from autoencoder_pipelines.training.seeds import restart_seeds, seed_everything

logger = logging.getLogger(__name__)


def fit_model(
    build_model: Callable[[], keras.Model],
    x_train,
    y_train,
    validation_data: tuple,
    config: TrainingConfig,
    run_key: str,
    callbacks: list[keras.callbacks.Callback] | None = None,
    sample_weight=None,
) -> tuple[keras.Model, History]:
    """Build, compile and fit a model; resume from a backup of the same run if one exists.

    With ``config.restarts`` > 1, each of that many initialisations (:func:`restart_seeds`)
    first trains for ``config.restart_epochs`` epochs; the one with the lowest validation
    loss so far then trains on, from where it stopped, to the end (early stopping). The
    others are discarded. A killed run resumes in whichever phase it was.

    Args:
        build_model: returns a new, built model; called inside the distribution
            devices' build scope and the dtype policy.
        x_train, y_train: training inputs and targets (NumPy).
        validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, val_sample_weight)``,
            monitored for early stopping.
        config: training settings.
        run_key: identifies the run (configuration + data) so that only a backup of the
            very same run is resumed: backups live in ``config.backup_dir / run_key``.
        callbacks: extra Keras callbacks of the final training (not of the restarts'
            first epochs), called after early stopping and the backup.
        sample_weight: optional per-sample weights of the training loss (NumPy).

    Returns:
        The model with the weights of its best validation epoch, and the per-epoch
        history (loss terms for training and validation) of the whole run.
    """
    callbacks = [*(callbacks or []), *reporters()]  # a live view's, where the caller set one up
    directory = Path(config.backup_dir) / run_key
    with only_run_of(directory):
        return _fit_with_restarts(build_model, x_train, y_train, validation_data, config, directory, callbacks, sample_weight)


def _fit_with_restarts(build_model, x_train, y_train, validation_data, config, directory, callbacks, sample_weight):
    fit = functools.partial(_fit, build_model, x_train, y_train, validation_data, config, Devices(), sample_weight=sample_weight)
    if config.restarts == 1:
        model, history = fit(config.seed, directory, config.epochs, callbacks)
    else:
        seeds = restart_seeds(config.seed, config.restarts)
        scores, probes = [], []
        for i, seed in enumerate(seeds):
            _, first_epochs = fit(seed, directory / f"restart-{i}", config.restart_epochs, None)
            probes.append(first_epochs)
            # Only the first restart_epochs count: a resumed run may find the winner further on.
            scores.append(min(first_epochs[config.monitor][: config.restart_epochs]))
            logger.info(
                "Restart %d/%d (seed %d): best %s %.4g in its first %d epochs.",
                i + 1,
                len(seeds),
                seed,
                config.monitor,
                scores[-1],
                config.restart_epochs,
            )
        winner = int(np.argmin(scores))
        logger.info("Training on restart %d (seed %d), the lowest %s.", winner + 1, seeds[winner], config.monitor)
        # Going on from the winner's first epochs is not resuming (a rerun's winner may already have gone further).
        going_on_after = min(len(probes[winner]["val_loss"]), config.restart_epochs)
        for report in (c for c in callbacks if isinstance(c, ProgressReport)):
            report.continues(going_on_after, f"restart {winner + 1}/{len(seeds)} chosen")
        model, history = fit(seeds[winner], directory / f"restart-{winner}", config.epochs, callbacks)
    shutil.rmtree(directory, ignore_errors=True)
    return model, history


def _fit(
    build_model,
    x_train,
    y_train,
    validation_data,
    config: TrainingConfig,
    devices: Devices,
    seed: int,
    directory: Path,
    epochs: int,
    callbacks,
    sample_weight=None,
) -> tuple[keras.Model, History]:
    """One model from ``seed``, fitted up to ``epochs`` with the per-epoch backup in ``directory``."""
    seed_everything(seed, config.deterministic)
    with dtype_policy(config.dtype_policy), devices.build_scope():
        model = build_model()
        learning_rate = config.learning_rate
        if config.lr_decay < 1.0:
            # A function of the optimizer's step count, which the backup restores.
            learning_rate = keras.optimizers.schedules.ExponentialDecay(
                config.learning_rate,
                decay_steps=math.ceil(len(x_train) / config.batch_size),
                decay_rate=config.lr_decay,
                staircase=True,
            )
        optimizer = (
            keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=config.weight_decay)
            if config.weight_decay > 0
            else keras.optimizers.Adam(learning_rate=learning_rate)
        )
        model.compile(
            optimizer=optimizer,
            jit_compile=False if config.run_eagerly else config.jit_compile,
            run_eagerly=config.run_eagerly,
        )
        # The optimizer's variables made now, not inside the first traced step: TensorFlow
        # traces a step that creates variables a second time.
        # Zeros either way, so the same training. The model's optimizer: under mixed float16
        # it wraps ``optimizer`` in a loss scaler, whose build builds ``optimizer``.
        model.optimizer.build(model.trainable_variables)
    early_stopping = ResumableEarlyStopping(
        monitor=config.monitor,
        mode="min",  # every key it may watch is a loss
        patience=config.patience,
        min_delta=config.min_delta,
        restore_best_weights=True,
        verbose=1 if config.verbose else 0,
    )
    backup = EpochBackup(directory, early_stopping)
    with devices.build_scope():
        initial_epoch = backup.restore(model)
    batches = EpochBatches((x_train, y_train, sample_weight), config.batch_size, seed)
    with devices.fit_scope():
        model.fit(
            batches.for_fit(),
            validation_data=validation_data,
            validation_batch_size=config.batch_size,
            epochs=epochs,
            initial_epoch=initial_epoch,
            shuffle=False,  # EpochBatches shuffles
            callbacks=[EpochRandomness(seed, batches), early_stopping, backup, *(callbacks or [])],
            verbose=config.verbose,
        )
    return model, backup.history


# --- Ensembles: members trained in parallel on Ray ----------------------------------
