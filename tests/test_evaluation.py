"""Metrics against hand-computed values."""

import math

import numpy as np
import pytest

from autoencoder_pipelines.evaluation import nasa_offset, nasa_score, r2, rmse


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


def test_nasa_offset_minimises_the_mean_nasa_score_of_the_clipped_member_mean():
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 125, 2000)
    noise = rng.normal(0, 13, 2000)
    # Unbiased estimates of spread 13: the score is lowest about 3.4 cycles below them
    # (minimise E exp(e/10) + E exp(-e/13) for e ~ N(d, 13^2)), and the answer is on the grid.
    offset = nasa_offset(y, [y + noise], 0.0, 125.0)
    assert -4.5 < offset < -2.5 and round(offset * 10) == pytest.approx(offset * 10)
    grid = np.arange(-100, 101) * 0.1
    scores = [nasa_score(y, np.clip(y + noise + d, 0, 125)) for d in grid]
    assert offset == pytest.approx(grid[int(np.argmin(scores))])
    # Two members: each is offset and clipped, then averaged (as models.Ensemble predicts).
    members = np.stack([y + noise + 10, y + noise - 10])
    scores = [nasa_score(y, np.clip(members + d, 0, 125).mean(axis=0)) for d in grid]
    assert nasa_offset(y, members, 0.0, 125.0) == pytest.approx(grid[int(np.argmin(scores))])
    # A bias beyond the search limit is an error, not a silent edge value.
    with pytest.raises(ValueError, match="the best offset is the search limit"):
        nasa_offset(y, [y + 60.0], 0.0, 125.0)
    with pytest.raises(ValueError, match="3 estimates per member for 2000 labels"):
        nasa_offset(y, [[1.0, 2.0, 3.0]], 0.0, 125.0)
    with pytest.raises(ValueError, match="0 estimates per member for 0 labels"):
        nasa_offset([], [[]], 0.0, 125.0)


def test_the_training_summary_reports_the_epoch_the_monitored_key_kept():
    from autoencoder_pipelines.evaluation import training_summary

    history = {"val_loss": [3.0, 2.0, 2.5], "val_classification_loss": [0.5, 0.4, 0.1]}
    assert training_summary(history) == {"epochs_trained": 3, "best_epoch": 2, "best_val_loss": 2.0}
    assert training_summary(history, "val_classification_loss") == {
        "epochs_trained": 3,
        "best_epoch": 3,
        "best_val_loss": 2.5,
        "best_val_classification_loss": 0.1,
    }
