"""How far an answer can be trusted: conformal RUL intervals and calibrated class probabilities.

Pure NumPy/SciPy, fitted on validation data by the pipelines' nodes and stored with the
model (its served settings), so batch scoring and the served model give the same numbers.

- :class:`RULIntervals`: split conformal prediction (Vovk et al. 2005; Lei et al. 2018)
  for the RUL estimate. The calibration points are the validation engines cut at every
  cycle from the window on (their sliding windows: the preprocessing is causal, so an
  engine cut at cycle ``t`` ends in exactly the window that ends at ``t``), each engine
  weighing as one, however long it ran (Dunn, Wasserman & Ramdas 2022, pooled CDFs for
  grouped calibration data). The interval is ``estimate ± half_width * s``, within the
  labels' range: ``half_width`` is the engine-weighted quantile of ``|truth - estimate| / s``
  at ``level``, with the finite-sample correction for ``n`` engines (the quantile at
  ``ceil((n + 1) level) / n``). ``s`` is 1, or with ``scale: spread`` the ensemble's
  spread plus a floor, the median spread (normalised scores: wider where the members
  disagree). Two one-sided quantiles (an interval around the estimate's bias) would each
  need the ``(1 + level) / 2`` level, which the twenty validation engines of FD001 can
  only calibrate at their extremes.
- :class:`TemperatureScaling`: one temperature dividing the log-probabilities (Guo et
  al. 2017), fitted by minimising the validation patients' negative log-likelihood.
- :func:`expected_calibration_error` and :func:`reliability_table`: equal-width
  confidence bins, the confidence against the accuracy in each.

MAPIE and crepes compute split-conformal intervals from residuals too, but take no
weights for the calibration points (MAPIE's ``conformalize`` and crepes'
``ConformalRegressor.fit`` have no such argument), and here each engine, not each of its
cycles, is one exchangeable draw; the weighted quantile is the few lines below.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class IntervalConfig(BaseModel):
    """``params:<task>.intervals``: how the RUL intervals are calibrated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: float = Field(default=0.9, gt=0, lt=1, description="the share of engines an interval should contain")
    scale: Literal["none", "spread"] = Field(
        default="none", description="none: one width for all; spread: widths proportional to the members' spread"
    )


class RULIntervals(BaseModel):
    """A fitted conformal calibration: ``rul_lower, rul_upper = estimate ∓ half_width * s``
    (see the module's docstring), within the labels' range. Stored with the model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: float = Field(gt=0, lt=1)
    scale: Literal["none", "spread"]
    half_width: float = Field(ge=0, description="the (scaled) absolute errors' conformal quantile at level")
    spread_floor: float = Field(ge=0, description="added to the spread when scale is spread")
    n_engines: int = Field(gt=0, description="calibration engines")
    n_points: int = Field(gt=0, description="calibration cut points (windows)")
    validation_coverage: float | None = Field(default=None, description="share of calibration engines' cut points inside")
    validation_mean_width: float | None = Field(default=None, description="mean width on the calibration cut points")

    def bounds(self, estimate, spread, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
        """``(rul_lower, rul_upper)`` of each estimate, within ``[low, high]`` (the labels'
        range: an upper bound at ``high`` reads "at least this much")."""
        estimate = np.asarray(estimate, np.float64)
        width = self.half_width * _scale(self.scale, spread, self.spread_floor, len(estimate))
        return np.clip(estimate - width, low, high), np.clip(estimate + width, low, high)


def fit_rul_intervals(truth, estimate, spread, engines, config: IntervalConfig) -> RULIntervals:
    """Calibrate :class:`RULIntervals` on validation cut points.

    Args:
        truth: the (capped) RUL at each cut point.
        estimate: the model's estimate there (offset and clipped, as it answers).
        spread: the members' spread there (zeros for one model).
        engines: the engine of each cut point; each engine weighs one in all.
        config: level and scale.

    Raises:
        ValueError: mismatched lengths; ``scale: spread`` for one model (no spread); fewer
            engines than the level can be calibrated with.
    """
    truth, estimate = np.asarray(truth, np.float64), np.asarray(estimate, np.float64)
    engines = np.asarray(engines)
    if not len(truth) == len(estimate) == len(engines) or len(truth) == 0:
        raise ValueError(f"fit_rul_intervals: {len(truth)} truths, {len(estimate)} estimates and {len(engines)} engines.")
    floor = float(np.median(spread)) if config.scale == "spread" else 0.0
    if config.scale == "spread" and floor <= 0:
        raise ValueError("fit_rul_intervals: scale 'spread' needs an ensemble; the spread is 0 (one model).")
    scores = np.abs(truth - estimate) / _scale(config.scale, spread, floor, len(truth))
    _, index, counts = np.unique(engines, return_inverse=True, return_counts=True)
    return RULIntervals(
        level=config.level,
        scale=config.scale,
        half_width=weighted_conformal_quantile(scores, 1.0 / counts[index], config.level),  # each engine sums to 1
        spread_floor=floor,
        n_engines=len(counts),
        n_points=len(truth),
    )


def min_calibration_engines(level: float) -> int:
    """The fewest calibration engines (units of weight) whose corrected quantile at
    ``level`` is not beyond the largest score: ``ceil((n + 1) level) <= n``."""
    return math.ceil(level / (1.0 - level) - 1e-9)


def weighted_conformal_quantile(scores, weights, q: float) -> float:
    """The smallest score whose weighted cumulative share reaches ``q`` corrected for a
    finite calibration set: ``ceil((n + 1) q) / n``, ``n`` the total weight (engines).

    Raises:
        ValueError: when the corrected level exceeds 1 (too few engines for ``q``).
    """
    scores, weights = np.asarray(scores, np.float64), np.asarray(weights, np.float64)
    n = round(float(weights.sum()), 9)  # engines: a whole number, up to the sum's rounding
    level = math.ceil(round((n + 1.0) * q, 9)) / n
    if level > 1.0 + 1e-9:
        raise ValueError(
            f"{n:g} calibration engines cannot calibrate the {q:.3f} quantile (it needs at least "
            f"{min_calibration_engines(q)}); lower the level or add validation engines."
        )
    order = np.argsort(scores, kind="stable")
    cumulative = np.cumsum(weights[order]) / n
    return float(scores[order][min(np.searchsorted(cumulative, level - 1e-12), len(scores) - 1)])


def _scale(scale: str, spread, floor: float, n: int) -> np.ndarray:
    if scale == "none":
        return np.ones(n)
    return np.asarray(spread, np.float64) + floor


def interval_coverage(truth, lower, upper, high: float | None = None) -> float:
    """The share of ``truth`` inside ``[lower, upper]``; with ``high`` (the labels' cap), an
    upper bound at ``high`` is open: any truth above it counts as inside."""
    truth = np.asarray(truth, np.float64)
    upper = np.asarray(upper, np.float64)
    if high is not None:
        upper = np.where(upper >= high, np.inf, upper)
    return float(np.mean((truth >= lower) & (truth <= upper)))


# --- class probabilities -------------------------------------------------------------------


class TemperatureScaling(BaseModel):
    """Calibrated probabilities ``softmax(log p / temperature)``; fitted on validation
    patients (:func:`fit_temperature`) and stored with the model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(gt=0)
    validation_nll_before: float
    validation_nll_after: float
    validation_ece_before: float
    validation_ece_after: float

    def apply(self, probabilities) -> np.ndarray:
        return scale_probabilities(probabilities, self.temperature)


def scale_probabilities(probabilities, temperature: float) -> np.ndarray:
    """``softmax(log p / temperature)`` per row (``p`` clipped away from 0)."""
    logits = np.log(np.clip(np.asarray(probabilities, np.float64), 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def _nll(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0))))


def fit_temperature(probabilities, labels) -> TemperatureScaling:
    """The temperature in [0.05, 20] minimising the negative log-likelihood of ``labels``
    (bounded scalar search on log T), with the validation NLL and ECE before and after."""
    from scipy.optimize import minimize_scalar  # noqa: PLC0415 - slow to import

    probabilities, labels = np.asarray(probabilities, np.float64), np.asarray(labels, np.int64)
    result = minimize_scalar(
        lambda log_t: _nll(scale_probabilities(probabilities, math.exp(log_t)), labels),
        bounds=(math.log(0.05), math.log(20.0)),
        method="bounded",
        options={"xatol": 1e-4},
    )
    temperature = math.exp(result.x)
    calibrated = scale_probabilities(probabilities, temperature)
    return TemperatureScaling(
        temperature=temperature,
        validation_nll_before=_nll(probabilities, labels),
        validation_nll_after=_nll(calibrated, labels),
        validation_ece_before=expected_calibration_error(probabilities, labels),
        validation_ece_after=expected_calibration_error(calibrated, labels),
    )


def reliability_table(probabilities, labels, n_bins: int = 15) -> dict[str, list[float]]:
    """Per equal-width bin of the top-class confidence: its count, mean confidence and
    accuracy (empty bins left out)."""
    probabilities, labels = np.asarray(probabilities, np.float64), np.asarray(labels)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    table: dict[str, list[float]] = {"bin_low": [], "count": [], "confidence": [], "accuracy": []}
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            table["bin_low"].append(b / n_bins)
            table["count"].append(int(inside.sum()))
            table["confidence"].append(float(confidence[inside].mean()))
            table["accuracy"].append(float(correct[inside].mean()))
    return table


def expected_calibration_error(probabilities, labels, n_bins: int = 15) -> float:
    """ECE: the count-weighted mean gap between confidence and accuracy over the bins of
    :func:`reliability_table` (Naeini et al. 2015; 15 bins as in Guo et al. 2017)."""
    table = reliability_table(probabilities, labels, n_bins)
    counts = np.asarray(table["count"], np.float64)
    gaps = np.abs(np.asarray(table["confidence"]) - np.asarray(table["accuracy"]))
    return float(np.sum(counts * gaps) / counts.sum())
