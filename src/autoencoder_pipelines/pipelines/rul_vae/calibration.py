"""Nodes of ``rul_vae``'s calibration stage: how far the trained model's answers can be
trusted, fitted once the model is trained, registered with it (``serving.RULSettings``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autoencoder_pipelines import models
from autoencoder_pipelines.data import cmapss
from autoencoder_pipelines.data.config import CMAPSSConfig
from autoencoder_pipelines.inference import last_cycle, matching_rul
from autoencoder_pipelines.models import predict_in_chunks
from autoencoder_pipelines.monitoring import (
    DetectorConfig,
    DriftConfig,
    fit_mahalanobis,
    reference_of,
    sample_rows,
)
from autoencoder_pipelines.uncertainty import IntervalConfig, fit_rul_intervals


def _cut_points(train: pd.DataFrame, units, data: CMAPSSConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The engines ``units`` cut at every cycle from the window on: their sliding windows
    (the preprocessing is causal, so a cut engine's last window is the window that ends
    at the cut), the capped RUL there and the unit of each."""
    return cmapss.sliding_windows(train[train["unit_nr"].isin(units)], data.sensor_columns, data.window)


def calibrate_rul_intervals(
    model: models.RecurrentVAE | models.Ensemble,
    train: pd.DataFrame,
    split: dict[str, list[int]],
    data: CMAPSSConfig,
    intervals: IntervalConfig,
) -> dict:
    """Conformal RUL intervals (``uncertainty.RULIntervals``) calibrated on the validation
    engines cut at every cycle, each engine weighing one; with the share of those cut
    points (engines weighing alike) inside their interval and its mean width."""
    windows, truth, units = _cut_points(train, split["validation_units"], data)
    outputs = model.predict(windows, batch_size=1024, verbose=0)
    spread = outputs.get("rul_spread", np.zeros(len(truth)))
    fitted = fit_rul_intervals(truth, outputs["rul"], spread, units, intervals)
    lower, upper = fitted.bounds(outputs["rul"], spread, 0.0, data.max_rul)
    _, index, counts = np.unique(units, return_inverse=True, return_counts=True)
    inside = (truth >= lower) & (truth <= upper)
    return fitted.model_copy(
        update={
            "validation_coverage": float(np.sum(inside / counts[index]) / len(counts)),
            "validation_mean_width": float(np.mean(upper - lower)),
        }
    ).model_dump()


def fit_ood_detector(train: pd.DataFrame, split: dict[str, list[int]], data: CMAPSSConfig, ood: DetectorConfig) -> dict:
    """The out-of-distribution detector: the Mahalanobis distance of an engine's last cycle
    (scaled, smoothed sensors) to the fitting engines' windows; the threshold flags
    ``false_flag_rate`` of the validation engines' cut points (each engine weighing one)."""
    fit_windows, _, _ = _cut_points(train, split["train_units"], data)
    val_windows, _, val_units = _cut_points(train, split["validation_units"], data)
    sensors = data.sensor_columns
    detector = fit_mahalanobis(
        last_cycle(fit_windows, sensors), last_cycle(val_windows, sensors), sensors, ood, validation_groups=val_units
    )
    return detector.model_dump()


def sample_drift_reference(
    model: models.RecurrentVAE | models.Ensemble,
    train: pd.DataFrame,
    split: dict[str, list[int]],
    data: CMAPSSConfig,
    drift: DriftConfig,
) -> dict:
    """A seeded sample of the fitting engines' windows' last cycles, each labelled with the
    model's own RUL estimate there (without its offset, as a scored batch's answers are:
    ``inference.matching_rul``), and the drift rule: what each scored batch is compared with
    (``monitoring.drift_report``).

    Labelled with the estimate, not the true RUL: a batch is matched by its estimates, which
    lean towards the middle of the range (a healthy engine is estimated more worn than it
    is); matched to true RULs, a healthy fleet can meet more worn windows and look moved.
    The matching shapes what moved, not the verdict (``monitoring.drift_report``).
    """
    windows, _, _ = _cut_points(train, split["train_units"], data)
    rows = sample_rows(len(windows), seed=data.split_seed)
    estimates = matching_rul(predict_in_chunks(model, windows[rows])["rul"], model.config.rul_offset)
    features = last_cycle(windows[rows], data.sensor_columns)
    return reference_of(features, drift, estimates).model_dump()
