"""Metrics of remaining-useful-life estimates (pure NumPy)."""

from __future__ import annotations

import numpy as np


def rmse(y_true, y_pred) -> float:
    """Root mean squared error."""
    d = np.asarray(y_pred, np.float64) - np.asarray(y_true, np.float64)
    return float(np.sqrt(np.mean(d**2)))


def r2(y_true, y_pred) -> float:
    """Coefficient of determination, 1 - SS_res / SS_tot."""
    y_true = np.asarray(y_true, np.float64)
    y_pred = np.asarray(y_pred, np.float64)
    ss_tot = np.sum((y_true - y_true.mean()) ** 2)
    if ss_tot == 0:
        raise ValueError("R² is undefined when every true value is the same.")
    return float(1.0 - np.sum((y_true - y_pred) ** 2) / ss_tot)


def nasa_score(y_true, y_pred) -> float:
    """PHM08 scoring function (Saxena et al. 2008), summed over engines.

    With ``d = predicted - true``: ``exp(-d/13) - 1`` for early predictions (d < 0) and
    ``exp(d/10) - 1`` for late ones, which are penalised harder.
    """
    d = np.asarray(y_pred, np.float64) - np.asarray(y_true, np.float64)
    return float(np.sum(np.where(d < 0, np.exp(-d / 13.0) - 1.0, np.exp(d / 10.0) - 1.0)))
