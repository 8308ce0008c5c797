"""Time the simulation and preprocessing of the full pacemaker-log dataset (issue 4).

Six classes, (beta_NA, alpha) in {10, 30, 180} x {0.998, 0.999}, ``--patients`` per class
(the study: 11,200, 67,200 series), ten years each: simulate the AF episodes, compute
the exact daily AF burden, then Gaussian smoothing (FWHM 250 days, normalised on the
window) and 25-day block means as one matrix product -> 146 points per patient.

    python benchmarks/af_simulation_benchmark.py
    python benchmarks/af_simulation_benchmark.py --patients 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from autoencoder_pipelines.data import pacemaker

GRID = [(beta, alpha) for beta in (10.0, 30.0, 180.0) for alpha in (0.998, 0.999)]
DAYS = 3650


def run_once(patients: int, seed: int) -> tuple[float, dict[str, float], int]:
    streams = np.random.SeedSequence(seed).spawn(len(GRID))
    timings = {"simulate": 0.0, "burden": 0.0, "smooth": 0.0}
    episodes_total = 0
    start = time.perf_counter()
    matrix = pacemaker.smoothing_matrix(DAYS, fwhm=250.0).astype(np.float32)
    timings["smooth"] += time.perf_counter() - start
    for (beta, alpha), stream in zip(GRID, streams):
        t0 = time.perf_counter()
        episodes = pacemaker.simulate_episodes(patients, beta, alpha, DAYS, np.random.default_rng(stream))
        t1 = time.perf_counter()
        burden = pacemaker.daily_burden(episodes, patients, DAYS)
        t2 = time.perf_counter()
        series = burden.astype(np.float32) @ matrix
        t3 = time.perf_counter()
        assert series.shape == (patients, 146)
        timings["simulate"] += t1 - t0
        timings["burden"] += t2 - t1
        timings["smooth"] += t3 - t2
        episodes_total += len(episodes)
    return time.perf_counter() - start, timings, episodes_total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=11_200, help="patients per class")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    totals = []
    for r in range(args.repeats):
        total, timings, n_episodes = run_once(args.patients, args.seed + r)
        totals.append(total)
        print(
            f"run {r + 1}: {total:.2f} s for {6 * args.patients:,} series ({n_episodes:,} episodes): "
            + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
        )
    print(f"median {statistics.median(totals):.2f} s, min {min(totals):.2f} s")


if __name__ == "__main__":
    main()
