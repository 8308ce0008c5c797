"""The pacemaker-log simulator and the daily AF burden, against what can be derived by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autoencoder_pipelines.data import pacemaker


def test_a_hand_made_episode_gives_the_exact_daily_fractions():
    episodes = pd.DataFrame({"patient": [0, 0, 1], "start": [1.25, 3.5, 0.0], "end": [3.0, 3.75, 5.0]})
    burden = pacemaker.daily_burden(episodes, n_patients=2, days=5)
    np.testing.assert_allclose(burden[0], [0.0, 0.75, 1.0, 0.25, 0.0], atol=1e-12)
    np.testing.assert_allclose(burden[1], [1.0] * 5, atol=1e-12)


def test_burden_is_a_fraction_and_sums_to_the_time_in_af():
    rng = np.random.default_rng(0)
    episodes = pacemaker.simulate_episodes(50, beta_na=10.0, alpha=0.998, days=365, rng=rng)
    burden = pacemaker.daily_burden(episodes, 50, 365)
    assert burden.min() >= 0 and burden.max() <= 1
    in_af = (episodes["end"] - episodes["start"]).groupby(episodes["patient"]).sum()
    np.testing.assert_allclose(burden.sum(axis=1)[in_af.index], in_af.to_numpy(), rtol=1e-9)


def test_the_mean_time_to_the_first_episode_is_beta_na():
    episodes = pacemaker.simulate_episodes(4000, beta_na=30.0, alpha=0.999, days=3650, rng=np.random.default_rng(1))
    first = episodes.groupby("patient")["start"].min()
    assert first.mean() == pytest.approx(30.0, rel=0.05)


def test_smaller_alpha_carries_more_burden_in_the_later_years():
    days = 3650
    late = {}
    for alpha in (0.998, 0.999):
        episodes = pacemaker.simulate_episodes(300, beta_na=30.0, alpha=alpha, days=days, rng=np.random.default_rng(2))
        late[alpha] = pacemaker.daily_burden(episodes, 300, days)[:, -3 * 365 :].mean()
    assert late[0.998] > late[0.999]


def test_the_smoothing_preserves_a_constant_series_and_gives_146_blocks():
    matrix = pacemaker.smoothing_matrix(3650, fwhm=250.0)
    assert matrix.shape == (3650, 146)
    np.testing.assert_allclose(np.full((2, 3650), 0.3) @ matrix, 0.3, rtol=1e-12)


def test_the_smoothing_matrix_is_the_block_mean_of_the_normalised_gaussian_kernel():
    days, fwhm, block = 110, 20.0, 25  # 4 blocks; the last 10 days feed outputs but are no block's
    sigma = fwhm / (2 * np.sqrt(2 * np.log(2)))
    t = np.arange(days)
    kernel = np.exp(-0.5 * ((t[:, None] - t[None, :]) / sigma) ** 2)
    kernel /= kernel.sum(axis=1, keepdims=True)
    averaging = np.kron(np.eye(4), np.full((1, block), 1 / block))  # (block, output day)
    expected = (averaging @ kernel[: 4 * block]).T
    np.testing.assert_allclose(pacemaker.smoothing_matrix(days, fwhm, block), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beta_na": -1.0}, "beta_na=-1.0"),
        ({"alpha": 1.5}, r"alpha=1.5: expected a value in \(0, 1\]"),
        ({"alpha": 0.0}, "alpha=0.0"),
        ({"n_patients": 0}, "n_patients=0"),
    ],
)
def test_bad_parameters_are_refused(kwargs, message):
    args = {"n_patients": 2, "beta_na": 10.0, "alpha": 0.999, "days": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        pacemaker.simulate_episodes(rng=np.random.default_rng(0), **args)
