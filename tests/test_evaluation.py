"""Metrics against hand-computed values."""

import math

import numpy as np
import pytest

from autoencoder_pipelines.evaluation import nasa_score, r2, rmse


def test_nasa_score_penalises_late_predictions_harder():
    # d = pred - true: -13 (early), 0, +10 (late)
    score = nasa_score([50, 20, 30], [37, 20, 40])
    assert score == pytest.approx((math.exp(1) - 1) + 0 + (math.exp(1) - 1))
    assert nasa_score([100], [90]) < nasa_score([100], [110])
    assert nasa_score([100], [90]) == pytest.approx(math.exp(10 / 13) - 1)
    assert nasa_score([100], [110]) == pytest.approx(math.exp(1) - 1)


def test_rmse_and_r2():
    y = np.array([10.0, 20.0, 30.0, 40.0])
    assert rmse(y, y + 3) == pytest.approx(3.0)
    assert r2(y, y) == 1.0
    assert r2(y, np.full(4, y.mean())) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="undefined"):
        r2([5.0, 5.0], [1.0, 2.0])
