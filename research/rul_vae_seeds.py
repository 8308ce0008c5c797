"""Run ``rul_vae`` with several training seeds and print the test metrics per seed.

Each seed is a full ``kedro run --pipeline=rul_vae`` (conf/base, the real data), so the
figures are those of the pipeline users run. Prints a Markdown table with the median.

    CMAPSS_DATA_DIR=../shared/data/cmapss python research/rul_vae_seeds.py --seeds 42 43 44
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEDRO = Path(sys.executable).with_name("kedro")


def latest_metrics(subset: str) -> dict:
    folder = REPO / "data/08_reporting/rul_vae" / subset / "metrics.json"
    newest = sorted(folder.iterdir())[-1]
    return {"version": newest.name, **json.loads((newest / "metrics.json").read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--subset", default="FD001")
    parser.add_argument("--params", default="", help="extra --params, e.g. rul_vae.training.batch_size=256")
    args = parser.parse_args()

    rows = []
    for seed in args.seeds:
        params = f"cmapss_subset={args.subset},rul_vae.training.seed={seed}" + (f",{args.params}" if args.params else "")
        subprocess.run([str(KEDRO), "run", "--pipeline=rul_vae", f"--params={params}"], cwd=REPO, check=True)
        rows.append({"seed": seed, **latest_metrics(args.subset)})

    print("\n| seed | test RMSE | NASA score | R² | epochs (best) | version |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['seed']} | {r['rmse']:.2f} | {r['nasa_score']:.0f} | {r['r2']:.3f} | {r['epochs_trained']} ({r['best_epoch']}) | {r['version']} |")
    med = {k: statistics.median(r[k] for r in rows) for k in ("rmse", "nasa_score", "r2")}
    print(f"| **median** | **{med['rmse']:.2f}** | **{med['nasa_score']:.0f}** | {med['r2']:.3f} | | |")


if __name__ == "__main__":
    main()
