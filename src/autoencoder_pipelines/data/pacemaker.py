"""Synthetic pacemaker logs of atrial fibrillation (AF) and their daily AF burden.

Costa et al., "Semi-Supervised Recurrent Variational Autoencoder Approach for Visual
Diagnosis of Atrial Fibrillation", IEEE Access 2021. Real pacemaker logs are private;
the study simulates them with a three-state Markov process per patient:

- normal rhythm -> AF after an exponential time with mean ``beta_na`` days;
- an AF episode that begins on day ``t`` ends at rate ``0.5 * alpha**t`` per day
  (mean duration ``2 / alpha**t`` days: episodes lengthen over the years when
  ``alpha < 1``), then goes to normal rhythm with probability 0.75 or to a gap with
  probability 0.25;
- a gap returns to AF after an exponential time with mean 3 hours; the AF that
  follows is a new episode, beginning then.

The log a pacemaker keeps is one row per AF episode: patient, start and end (days).
Everything here is vectorised over patients: the simulation advances every patient by
one transition per step, and the daily burden is built from the episode boundaries
without a loop over days.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

GAP_MEAN_DAYS = 3.0 / 24.0
TO_NORMAL = 0.75
BLOCK_DAYS = 25


def simulate_episodes(n_patients: int, beta_na: float, alpha: float, days: int, rng: np.random.Generator) -> pd.DataFrame:
    """AF episodes of ``n_patients`` patients over ``[0, days)``, in time order per patient.

    Args:
        n_patients: number of patients (> 0).
        beta_na: mean time in days from normal rhythm to AF (> 0).
        alpha: per-day factor of the episode-ending rate, in (0, 1].
        days: length of the record.
        rng: the random stream.

    Returns:
        Columns ``patient`` (0..n-1), ``start`` and ``end`` in days (an episode still
        running at ``days`` is cut there).
    """
    if n_patients <= 0:
        raise ValueError(f"n_patients={n_patients}: expected a positive number of patients.")
    if not beta_na > 0:
        raise ValueError(f"beta_na={beta_na}: expected a positive mean time to AF, in days.")
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha={alpha}: expected a value in (0, 1].")
    if days <= 0:
        raise ValueError(f"days={days}: expected a positive record length.")

    patients, starts, ends = [], [], []
    active = np.arange(n_patients)
    # Every patient starts in normal rhythm at day 0.
    t = rng.exponential(beta_na, n_patients)
    while active.size:
        live = t < days
        active, t = active[live], t[live]
        if not active.size:
            break
        # An AF episode begins at t: it ends at rate 0.5 * alpha**t.
        duration = rng.exponential(1.0, active.size) / (0.5 * alpha ** np.floor(t))
        end = t + duration
        patients.append(active)
        starts.append(t)
        ends.append(np.minimum(end, days))
        # Then normal rhythm (next AF after Exp(beta_na)) or a gap (next AF after Exp(3 h)).
        to_normal = rng.random(active.size) < TO_NORMAL
        wait = np.where(to_normal, rng.exponential(beta_na, active.size), rng.exponential(GAP_MEAN_DAYS, active.size))
        t = end + wait
    if not patients:
        return pd.DataFrame({"patient": np.array([], np.int64), "start": [], "end": []})
    frame = pd.DataFrame({"patient": np.concatenate(patients), "start": np.concatenate(starts), "end": np.concatenate(ends)})
    return frame.sort_values(["patient", "start"], kind="stable").reset_index(drop=True)


def daily_burden(episodes: pd.DataFrame, n_patients: int, days: int) -> np.ndarray:
    """Exact fraction of each day spent in AF, ``(n_patients, days)`` in [0, 1].

    ``G(t)``, the AF time before ``t``, is a sum of ramps ``max(t - s, 0) - max(t - e, 0)``
    over the episodes; at integer days it follows from slope and offset increments
    accumulated at ``ceil(s)`` and ``ceil(e)``, and the burden of day ``d`` is
    ``G(d + 1) - G(d)``.
    """
    width = days + 2
    size = n_patients * width
    slope = np.zeros(size)
    offset = np.zeros(size)
    row = episodes["patient"].to_numpy().astype(np.int64) * width
    for bounds, sign in ((episodes["start"].to_numpy(), 1.0), (episodes["end"].to_numpy(), -1.0)):
        k = np.ceil(bounds).astype(np.int64)
        # ramp(d - b) for d >= k equals (d - k) + (k - b): unit slope from k, plus a step k - b.
        slope += np.bincount(row + k + 1, minlength=size) * sign
        offset += np.bincount(row + k, weights=sign * (k - bounds), minlength=size)
    slope, offset = slope.reshape(n_patients, width), offset.reshape(n_patients, width)
    cumulative = np.cumsum(np.cumsum(slope, axis=1), axis=1) + np.cumsum(offset, axis=1)  # G(0..days+1)
    return np.clip(np.diff(cumulative[:, : days + 1], axis=1), 0.0, 1.0)


def smoothing_matrix(days: int, fwhm: float, block: int = BLOCK_DAYS) -> np.ndarray:
    """The linear map from a daily series to its smoothed ``block``-day means, ``(days, days // block)``.

    Gaussian smoothing with full width at half maximum ``fwhm`` (sigma = fwhm / (2 sqrt(2 ln 2))),
    normalised on the finite window (each output divided by the kernel mass inside
    ``[0, days)``, so a constant series stays constant), then the mean of each block of
    ``block`` days. One matrix product applies all three steps to every patient.
    """
    sigma = fwhm / (2.0 * math.sqrt(2.0 * math.log(2.0)))
    t = np.arange(days)
    weight = np.exp(-0.5 * (t / sigma) ** 2)  # the kernel by distance in days
    matrix = np.empty((days, days // block))
    # One block of output days at a time: its kernel rows, each normalised, then their mean.
    # (The whole days x days kernel at once spent seconds allocating memory.)
    for b in range(days // block):
        rows = weight[np.abs(t[b * block : (b + 1) * block, None] - t[None, :])]  # (output day, input day)
        rows /= rows.sum(axis=1, keepdims=True)
        matrix[:, b] = rows.mean(axis=0)
    return matrix


# --- episode logs to score --------------------------------------------------------

EPISODE_LOG_COLUMNS = ("patient", "start", "end", "record_days")


class PacemakerValidationError(ValueError):
    """An episode log that cannot be scored; the message names the column and the problem."""


def episodes_by_patient(log: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Checked episode logs (``schemas.validate_episode_log``) as :func:`daily_burden`
    takes them: the episodes (rows with a ``start``) with ``patient`` renumbered 0, 1, ...
    in the order of the sorted patient ids, and those ids (patients without episodes
    included)."""
    ids = np.unique(log["patient"].to_numpy(np.int64))
    episode = log["start"].notna().to_numpy()
    rows = log[episode]
    episodes = pd.DataFrame(
        {
            "patient": np.searchsorted(ids, rows["patient"].to_numpy(np.int64)),
            "start": rows["start"].to_numpy(np.float64),
            "end": rows["end"].to_numpy(np.float64),
        }
    )
    return episodes, ids


def burden_series(episodes: pd.DataFrame, n_patients: int, days: int, matrix: np.ndarray) -> np.ndarray:
    """Daily AF burden -> smoothed block means through ``matrix`` (:func:`smoothing_matrix`,
    float32): ``(n_patients, days // block)`` float32 in [0, 1]."""
    out = daily_burden(episodes, n_patients, days).astype(np.float32) @ matrix
    # Each output is a weighted mean of burdens in [0, 1]; clip float32 rounding (1 + 2e-7).
    return np.clip(out, 0.0, 1.0, out=out)


def record_tenths(series: np.ndarray) -> pd.DataFrame:
    """Each patient's mean AF burden over each tenth of the record (``tenth_1`` ...
    ``tenth_10``; the series' blocks split as evenly as they go): the features of the drift
    reports, a year each for ten-year records."""
    values = np.asarray(series, np.float64).reshape(len(series), -1)
    parts = np.array_split(np.arange(values.shape[1]), 10)
    return pd.DataFrame({f"tenth_{i + 1}": values[:, part].mean(axis=1) for i, part in enumerate(parts)})
