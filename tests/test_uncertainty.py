"""Conformal RUL intervals, temperature scaling and the calibration error (``uncertainty``)."""

from __future__ import annotations

import numpy as np
import pytest

from autoencoder_pipelines import uncertainty
from autoencoder_pipelines.uncertainty import IntervalConfig, fit_rul_intervals


def test_the_weighted_quantile_counts_each_engine_once_with_the_finite_sample_correction():
    # engine 0: scores 1, 1 (weight 1/2 each); engines 1..9: one score each, 2..10
    scores = np.r_[1.0, 1.0, np.arange(2.0, 11.0)]
    weights = np.r_[0.5, 0.5, np.ones(9)]
    # 10 engines, q = 0.8: level ceil(11 * 0.8) / 10 = 0.9 -> the 9th engine's score
    assert uncertainty.weighted_conformal_quantile(scores, weights, 0.8) == 9.0
    assert uncertainty.min_calibration_engines(0.9) == 9 and uncertainty.min_calibration_engines(0.5) == 1
    with pytest.raises(ValueError, match="10 calibration engines cannot calibrate the 0.950 quantile .* at least 19"):
        uncertainty.weighted_conformal_quantile(scores, weights, 0.95)


def _engines(rng, n_engines, noise):
    """Cut points of ``n_engines`` engines (10 to 60 each), their truth and a noisy estimate."""
    owner = np.concatenate([np.full(rng.integers(10, 60), e) for e in range(n_engines)])
    truth = rng.uniform(0, 125, len(owner))
    spread = rng.uniform(0.5, 3.0, len(owner))
    estimate = truth + rng.normal(0, noise * spread, len(owner))  # errors grow with the spread
    return truth, estimate, spread, owner


@pytest.mark.parametrize("scale", ["none", "spread"])
def test_intervals_calibrated_on_some_engines_cover_the_level_of_new_ones(scale):
    rng = np.random.default_rng(0)
    truth, estimate, spread, owner = _engines(rng, 200, noise=5.0)
    fitted = fit_rul_intervals(truth, estimate, spread, owner, IntervalConfig(level=0.9, scale=scale))
    new_truth, new_estimate, new_spread, _ = _engines(rng, 400, noise=5.0)
    lower, upper = fitted.bounds(new_estimate, new_spread, -np.inf, np.inf)
    assert 0.87 <= np.mean((new_truth >= lower) & (new_truth <= upper)) <= 0.94
    assert fitted.n_engines == 200 and fitted.n_points == len(truth)


def test_scaled_by_the_spread_intervals_are_narrower_when_the_spread_tells_the_error():
    rng = np.random.default_rng(1)
    truth, estimate, spread, owner = _engines(rng, 200, noise=5.0)
    widths = {}
    for scale in ("none", "spread"):
        fitted = fit_rul_intervals(truth, estimate, spread, owner, IntervalConfig(scale=scale))
        lower, upper = fitted.bounds(estimate, spread, -np.inf, np.inf)
        widths[scale] = np.mean(upper - lower)
    assert widths["spread"] < 0.95 * widths["none"]  # the floor (the median spread) damps the gain


def test_bounds_stay_within_the_labels_range_and_an_open_upper_bound_counts_as_inside():
    fitted = uncertainty.RULIntervals(level=0.9, scale="none", half_width=20.0, spread_floor=0.0, n_engines=20, n_points=99)
    lower, upper = fitted.bounds(np.array([5.0, 60.0, 120.0]), np.zeros(3), 0.0, 125.0)
    np.testing.assert_array_equal(lower, [0.0, 40.0, 100.0])
    np.testing.assert_array_equal(upper, [25.0, 80.0, 125.0])
    # a true RUL of 140 is inside [100, 125] read as "at least 100"; 90 is below the third interval
    assert uncertainty.interval_coverage([3.0, 90.0, 140.0], lower, upper) == pytest.approx(1 / 3)
    assert uncertainty.interval_coverage([3.0, 90.0, 140.0], lower, upper, high=125.0) == pytest.approx(2 / 3)


def test_a_single_model_cannot_scale_by_a_spread_it_does_not_have():
    with pytest.raises(ValueError, match="scale 'spread' needs an ensemble"):
        fit_rul_intervals(np.ones(20), np.ones(20), np.zeros(20), np.arange(20), IntervalConfig(scale="spread"))


def test_temperature_scaling_recovers_the_temperature_that_made_probabilities_overconfident():
    rng = np.random.default_rng(2)
    logits = rng.normal(0, 2.0, (4000, 6))
    truth = np.array([rng.choice(6, p=p) for p in uncertainty.scale_probabilities(np.exp(logits), 1.0)])
    overconfident = uncertainty.scale_probabilities(np.exp(logits), 1 / 2.5)  # logits x 2.5
    fitted = uncertainty.fit_temperature(overconfident, truth)
    assert fitted.temperature == pytest.approx(2.5, rel=0.1)
    assert fitted.validation_nll_after < fitted.validation_nll_before
    assert fitted.validation_ece_after < fitted.validation_ece_before / 2
    np.testing.assert_allclose(fitted.apply(overconfident).sum(axis=1), 1.0)
    # the temperature never changes the predicted class
    np.testing.assert_array_equal(fitted.apply(overconfident).argmax(axis=1), overconfident.argmax(axis=1))


def test_the_calibration_error_is_the_count_weighted_gap_per_confidence_bin():
    probabilities = np.array([[0.95, 0.05], [0.95, 0.05], [0.65, 0.35], [0.65, 0.35]])
    labels = np.array([0, 1, 0, 0])  # bin 0.93..1: confidence 0.95, accuracy 0.5; bin 0.6..0.67: 0.65 vs 1
    table = uncertainty.reliability_table(probabilities, labels)
    assert table["count"] == [2, 2] and table["accuracy"] == [1.0, 0.5]
    assert uncertainty.expected_calibration_error(probabilities, labels) == pytest.approx((2 * 0.35 + 2 * 0.45) / 4)
