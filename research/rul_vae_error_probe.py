"""Probe: how much of the ``rul_vae`` test error do all runs share?

Reads the test predictions of saved runs (``data/07_model_output/rul_vae/<subset>/
test_predictions.parquet/<version>``, one per ``kedro run``) and splits each test engine's
squared error over the runs into the part every run shares (the square of the runs' mean
error on that engine) and the part that varies between runs (their variance):

    mean over runs of RMSE² = shared + between-runs

The shared part is what no choice of seed, checkpoint or ensemble of such runs removes:
the mean prediction of the N runs has RMSE √shared exactly, and that of infinitely many
such runs about √(shared − between/(N − 1)) (the squared mean error, less its sampling
noise). Also prints
the mean pairwise correlation of the runs' per-engine errors, the mean prediction's RMSE
and NASA score, and its error by true RUL. No training.

    python research/rul_vae_error_probe.py                       # every saved run
    python research/rul_vae_error_probe.py --last 3              # the 3 newest runs
    python research/rul_vae_error_probe.py --versions 2026-11-26T17.11.08.316Z ...
    python research/rul_vae_error_probe.py --traces .sweep/trace/s14/kl1-4[234]

``--traces`` reads runs of ``rul_vae_sweep.py run --trace`` instead: each run's test
predictions at the epoch with the lowest validation loss (the checkpoint the pipeline keeps).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from autoencoder_pipelines.evaluation import nasa_score, rmse

REPO = Path(__file__).resolve().parents[1]


def load_runs(folder: Path, versions: list[str] | None, last: int | None) -> dict[str, pd.DataFrame]:
    available = sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []
    if not available:
        raise SystemExit(f"{folder}: no saved runs (run `kedro run --pipeline=rul_vae` first)")
    chosen = versions or available[-(last or len(available)) :]
    missing = sorted(set(chosen) - set(available))
    if missing:
        raise SystemExit(f"{folder}: no versions {missing}; saved: {available}")
    return {version: pd.read_parquet(folder / version / folder.name) for version in chosen}


def load_traces(folders: list[Path]) -> dict[str, pd.DataFrame]:
    runs = {}
    for folder in folders:
        with np.load(folder / "trace.npz") as trace:
            best = int(np.argmin(trace["val_loss"]))
            runs[folder.name] = pd.DataFrame({"true_rul_capped": trace["y_test"], "predicted_rul": trace["test_predicted"][best]})
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subset", default="FD001")
    parser.add_argument("--versions", nargs="+", help="run versions (timestamps); default: every saved run")
    parser.add_argument("--last", type=int, help="only the newest N runs")
    parser.add_argument("--traces", type=Path, nargs="+", help="rul_vae_sweep.py trace folders instead of saved runs")
    args = parser.parse_args()

    if args.traces:
        runs = load_traces(args.traces)
    else:
        folder = REPO / f"data/07_model_output/rul_vae/{args.subset}/test_predictions.parquet"
        runs = load_runs(folder, args.versions, args.last)
    frames = list(runs.values())
    truth = frames[0]["true_rul_capped"].to_numpy()
    for version, frame in runs.items():
        if not np.array_equal(frame["true_rul_capped"].to_numpy(), truth):
            raise SystemExit(f"{version}: other test engines than {next(iter(runs))}")
    predictions = np.stack([frame["predicted_rul"].to_numpy() for frame in frames])
    errors = predictions - truth

    print("| run | test RMSE | NASA score |")
    print("|---|---|---|")
    for version, predicted in zip(runs, predictions):
        print(f"| {version} | {rmse(truth, predicted):.2f} | {nasa_score(truth, predicted):.0f} |")

    ensemble = predictions.mean(axis=0)
    ensemble_error = ensemble - truth  # the runs' mean error per engine
    mean_squared = np.mean(errors**2)
    shared = np.mean(ensemble_error**2)
    between = np.mean(errors.var(axis=0))
    print(
        f"\n{len(runs)} runs: mean RMSE² {mean_squared:.1f} = shared {shared:.1f} + between runs {between:.1f} "
        f"({shared / mean_squared:.0%} shared)"
    )
    if len(runs) > 1:
        correlation = np.corrcoef(errors)[np.triu_indices(len(runs), k=1)]
        print(f"per-engine errors, pairwise correlation: mean {correlation.mean():.3f}, min {correlation.min():.3f}")
    print(f"mean prediction of the runs: RMSE {rmse(truth, ensemble):.2f}, NASA score {nasa_score(truth, ensemble):.0f}")
    if len(runs) > 1:
        print(f"mean prediction of infinitely many such runs: RMSE about {np.sqrt(shared - between / (len(runs) - 1)):.2f}")

    print("\n| true RUL | engines | mean error | RMSE | share of squared error |")
    print("|---|---|---|---|---|")
    edges = [0, 25, 50, 75, 100, np.inf]
    bins = np.digitize(truth, edges[1:-1])
    squared = ensemble_error**2
    for index, (low, high) in enumerate(zip(edges[:-1], edges[1:])):
        inside = bins == index
        label = f"{low}–{high}" if np.isfinite(high) else f"≥ {low}"
        print(
            f"| {label} | {inside.sum()} | {ensemble_error[inside].mean():+.1f} "
            f"| {np.sqrt(squared[inside].mean()):.1f} | {squared[inside].sum() / squared.sum():.0%} |"
        )


if __name__ == "__main__":
    main()
