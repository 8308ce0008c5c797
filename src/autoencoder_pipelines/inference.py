"""Scoring engines with a trained RUL model: engine logs in, RUL and health-map position out.

Used wherever a trained ``RecurrentVAE`` meets engine logs that did not go through the
training run's preprocessing: the champion's evaluation in ``rul_vae_retrain`` and
batch scoring in ``rul_inference``. The engines go through the model's own
preprocessing (the scaler it was trained with and its data settings, stored with it
in the registry), not the current parameters. No Kedro here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from autoencoder_pipelines.data import cmapss
from autoencoder_pipelines.data.cmapss import CMAPSSValidationError, ConditionScaler
from autoencoder_pipelines.data.config import CMAPSSConfig

if TYPE_CHECKING:
    from autoencoder_pipelines.models import RecurrentVAE


def predict_in_chunks(model, x: np.ndarray, chunk: int = 1024) -> dict[str, np.ndarray]:
    """The model's dict outputs for ``x``, ``chunk`` items per call of ``predict_on_batch``.

    The same numbers as ``model.predict`` (same compiled step, inference mode), without its
    per-call setup (a data adapter, a progress callback): for a request of ten engines, 16 ms
    instead of 94 ms on the 4-member ensemble (``benchmarks/README.md``, serving)."""
    parts = [model.predict_on_batch(x[start : start + chunk]) for start in range(0, len(x), chunk)]
    return {name: np.concatenate([np.asarray(p[name]) for p in parts]) for name in parts[0]}


def score_engines(model: RecurrentVAE, engines: pd.DataFrame, scaler: dict, data: CMAPSSConfig, name: str) -> pd.DataFrame:
    """RUL and health-map position of every engine, from its last window.

    Args:
        model: the trained model.
        engines: engine logs in the CMAPSS layout (unit, cycle, settings, sensors).
        scaler: the model's fitted ``ConditionScaler`` as a dict.
        data: the data settings the model was trained with.
        name: what error messages call ``engines`` (a file name).

    Returns:
        One row per engine: ``unit_nr``, ``n_cycles``, ``predicted_rul``, ``rul_spread``
        (the standard deviation between an ensemble's members; 0 for one model), ``z_1``,
        ``z_2`` (the health map; an ensemble's lead member's).

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
    scaled = ConditionScaler.from_dict(scaler).transform(engines, name)
    smoothed = cmapss.exponential_smoothing(scaled, sensors, data.smoothing_alpha)
    windows, units = cmapss.last_windows(smoothed, sensors, data.window, data.mask_value)
    outputs = predict_in_chunks(model, windows)
    z = outputs["z_mean"].astype(np.float64)
    return pd.DataFrame(
        {
            "unit_nr": units,
            "n_cycles": cmapss.engine_lengths(engines).loc[units].to_numpy(),
            "predicted_rul": outputs["rul"].astype(np.float64),
            "rul_spread": outputs["rul_spread"].astype(np.float64) if "rul_spread" in outputs else 0.0,
            "z_1": z[:, 0],
            "z_2": z[:, 1] if z.shape[1] > 1 else 0.0,
        }
    )
