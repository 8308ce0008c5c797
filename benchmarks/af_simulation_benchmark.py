"""Time the simulation and preprocessing of the pacemaker-log dataset (``af_rvae``).

Through Kedro (``kedro_slice.PipelineSlice``): the registered ``af_rvae`` pipeline from
the simulation to the AF-burden series (``simulate_pacemaker_logs``,
``make_burden_series``), with the project's configuration (six classes, ten years,
``--patients`` per class; the study: 11,200, 67,200 series), in memory. Prints each
run's total and the per-node split.

    python benchmarks/af_simulation_benchmark.py
    python benchmarks/af_simulation_benchmark.py --patients 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from kedro_slice import PipelineSlice

SERIES = "af_rvae.preprocessing.make_burden_series"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=None, help="patients per class (default: conf/base's)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    simulation = {"patients_per_class": args.patients} if args.patients else {}
    stages = PipelineSlice("af_rvae", to_nodes=[SERIES], runtime_params={"af_rvae": {"simulation": simulation}})
    totals = []
    for r in range(args.repeats):
        before = dict(stages.timer.seconds)
        total, outputs = stages.timed_run()
        totals.append(total)
        split = {name.rsplit(".", 1)[-1]: stages.timer.seconds[name] - before.get(name, 0.0) for name in stages.timer.seconds}
        series, episodes = outputs["af_rvae.burden_series"], outputs["af_rvae.episodes"]
        print(
            f"run {r + 1}: {total:.2f} s for {len(series):,} series of {series.shape[1]} points ({len(episodes):,} episodes): "
            + ", ".join(f"{k} {v:.2f} s" for k, v in split.items())
        )
    print(f"median {statistics.median(totals):.2f} s, min {min(totals):.2f} s")


if __name__ == "__main__":
    main()
