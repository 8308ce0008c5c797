"""Scoring with a trained model: engines to RUL with its interval and flag; patients'
series to a diagnosis with calibrated probabilities and a flag.

Used wherever a trained model meets new inputs: the served models (``serving``), the
champion's evaluation in ``<task>_retrain``, batch scoring in ``rul_inference`` /
``af_inference``, and the challenger's own evaluation for the trust columns. Engines go
through the model's own preprocessing (the scaler it was trained with and its data
settings, stored with it in the registry), not the current parameters. No Kedro here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from autoencoder_pipelines.data import cmapss
from autoencoder_pipelines.data.cmapss import CMAPSSValidationError, ConditionScaler
from autoencoder_pipelines.data.config import CMAPSSConfig
from autoencoder_pipelines.models import predict_in_chunks

if TYPE_CHECKING:
    from autoencoder_pipelines.models import RecurrentVAE
    from autoencoder_pipelines.monitoring import MahalanobisDetector, ThresholdDetector
    from autoencoder_pipelines.uncertainty import RULIntervals, TemperatureScaling


def engine_features(engines: pd.DataFrame, scaler: dict, data: CMAPSSConfig, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The model's input for each engine: its last window of scaled, smoothed sensors
    (left-padded for engines shorter than the window), and the sorted units."""
    sensors = data.sensor_columns
    scaled = ConditionScaler.from_dict(scaler).transform(engines, name)
    smoothed = cmapss.exponential_smoothing(scaled, sensors, data.smoothing_alpha)
    return cmapss.last_windows(smoothed, sensors, data.window, data.mask_value)


def last_cycle(windows: np.ndarray, sensors) -> pd.DataFrame:
    """Each window's last cycle (never padding: windows are padded at the start), the
    features of the out-of-distribution flag and the drift report."""
    return pd.DataFrame(np.asarray(windows)[:, -1, :].astype(np.float64), columns=list(sensors))


def latent_columns(z: np.ndarray) -> dict[str, np.ndarray | float]:
    """The map position of each item from its latent mean ``(n, latent_dim)``: ``z_1``,
    ``z_2`` (0 for a one-dimensional latent; the map draws the first two dimensions)."""
    return {"z_1": z[:, 0], "z_2": z[:, 1] if z.shape[1] > 1 else 0.0}


def matching_rul(predicted_rul, rul_offset: float) -> np.ndarray:
    """What a drift report matches a batch's engines to training windows by: each predicted
    RUL without the offset the model adds to every estimate. The offset moves every answer
    by design (earlier, for the NASA score); matched on it, a healthy fleet would be compared
    with more worn training windows and look drifted."""
    return np.asarray(predicted_rul, np.float64) - float(rul_offset)


def trust_columns(
    estimate,
    spread,
    features: pd.DataFrame,
    intervals: RULIntervals | None,
    detector: MahalanobisDetector | None,
    max_rul: float,
) -> dict[str, np.ndarray]:
    """How far each estimate can be trusted: ``rul_lower`` and ``rul_upper`` (the conformal
    interval, within 0..max_rul), ``ood_score`` and ``ood`` (the out-of-distribution flag);
    each pair only when the model has the calibration it needs."""
    columns = {}
    if intervals is not None:
        columns["rul_lower"], columns["rul_upper"] = intervals.bounds(estimate, spread, 0.0, max_rul)
    if detector is not None:
        scores = detector.score_frame(features)
        columns["ood_score"], columns["ood"] = scores, detector.flag(scores)
    return columns


def score_engines(
    model: RecurrentVAE,
    engines: pd.DataFrame,
    scaler: dict,
    data: CMAPSSConfig,
    name: str,
    intervals: RULIntervals | None = None,
    detector: MahalanobisDetector | None = None,
) -> pd.DataFrame:
    """RUL, its interval, the out-of-distribution flag and the health-map position of every
    engine, from its last window.

    Args:
        model: the trained model.
        engines: engine logs in the CMAPSS layout (unit, cycle, settings, sensors).
        scaler: the model's fitted ``ConditionScaler`` as a dict.
        data: the data settings the model was trained with.
        name: what error messages call ``engines`` (a file name).
        intervals, detector: the model's calibration (``RULSettings``), if it has one.

    Returns:
        One row per engine: ``unit_nr``, ``n_cycles``, ``predicted_rul``, ``rul_lower`` and
        ``rul_upper`` (with ``intervals``), ``rul_spread`` (the standard deviation between
        an ensemble's members; 0 for one model), ``ood_score`` and ``ood`` (with
        ``detector``), ``z_1``, ``z_2`` (the health map; an ensemble's lead member's).

    Raises:
        CMAPSSValidationError: the model expects windows of another shape than the data
            settings produce, or ``engines`` lacks a column the scaler needs.
    """
    sensors = data.sensor_columns
    expected = tuple(model.config.input_shape)
    if expected != (data.window, len(sensors)):
        raise CMAPSSValidationError(
            f"{name}: the model takes windows of {expected[0]} cycles x {expected[1]} sensors, but its "
            f"data settings give {data.window} cycles x {len(sensors)} sensors {list(sensors)}."
        )
    windows, units = engine_features(engines, scaler, data, name)
    outputs = predict_in_chunks(model, windows)
    z = outputs["z_mean"].astype(np.float64)
    estimate = outputs["rul"].astype(np.float64)
    spread = outputs["rul_spread"].astype(np.float64) if "rul_spread" in outputs else np.zeros(len(units))
    trust = trust_columns(estimate, spread, last_cycle(windows, sensors), intervals, detector, data.max_rul)
    columns = {
        "unit_nr": units,
        "n_cycles": cmapss.engine_lengths(engines).loc[units].to_numpy(),
        "predicted_rul": estimate,
        **{k: trust[k] for k in ("rul_lower", "rul_upper") if k in trust},
        "rul_spread": spread,
        **{k: trust[k] for k in ("ood_score", "ood") if k in trust},
        **latent_columns(z),
    }
    return pd.DataFrame(columns)


def attach_truth(scored: pd.DataFrame, truth: pd.DataFrame, max_rul: float) -> pd.DataFrame:
    """Scored engines (:func:`score_engines`) with their truth from ``truth`` (``unit_nr``,
    ``RUL``, ``item``): ``item``, ``true_rul`` and ``true_rul_capped`` (at ``max_rul``), the
    columns an evaluation compares and the promotion's paired test resamples."""
    known = truth.set_index("unit_nr").loc[scored["unit_nr"]]
    true_rul = known[cmapss.RUL_COLUMN].to_numpy(np.float64)
    return scored.assign(item=known["item"].to_numpy(), true_rul=true_rul, true_rul_capped=np.minimum(true_rul, max_rul))


def diagnose_series(
    model, series: np.ndarray, calibration: TemperatureScaling | None, detector: ThresholdDetector | None
) -> dict[str, np.ndarray]:
    """A recurrent VAE classifier's answer for burden series ``(n, steps, 1)``:
    ``probabilities`` (calibrated by the model's temperature when it has one),
    ``raw_probabilities``, ``probability_spread`` (between an ensemble's members, per class;
    zeros for one model), ``z_mean`` (an ensemble's lead member's), ``reconstruction``,
    ``ood_score`` (the mean squared reconstruction error of each series) and, with
    ``detector``, ``ood``."""
    outputs = predict_in_chunks(model, series)
    raw = np.asarray(outputs["probabilities"], np.float64)
    reconstruction = np.asarray(outputs["reconstruction"], np.float64)
    errors = np.mean((reconstruction.reshape(len(series), -1) - series.reshape(len(series), -1)) ** 2, axis=1)
    answer = {
        "probabilities": raw if calibration is None else calibration.apply(raw),
        "raw_probabilities": raw,
        "probability_spread": np.asarray(outputs.get("probabilities_spread", np.zeros_like(raw)), np.float64),
        "z_mean": np.asarray(outputs["z_mean"], np.float64),
        "reconstruction": reconstruction,
        "ood_score": errors,
    }
    if detector is not None:
        answer["ood"] = detector.flag(errors)
    return answer
