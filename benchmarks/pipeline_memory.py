"""Peak memory of ``kedro run --pipelines=<name>`` with ``conf/base``, the whole process tree.

Each pipeline runs as a user runs it (``python -m kedro run``, in the project), in its
own process; a sampler adds up the resident memory (RSS) of that process and of every
process below it (Ray's raylet, workers and ensemble members included) every
``--interval`` seconds, and keeps the largest sum. The sum over-counts pages that
processes share (the libraries each maps), so it is an upper bound of what the machine
had to provide.

``--epochs N`` caps every training at N epochs (``<pipeline>.training.epochs=N`` as a
runtime parameter): the data, the models and the processes are those of a full run, and
the trainer holds one model, its optimizer state and the best weights whatever the
number of epochs, so more epochs should add no memory (not checked against full runs).

    MNIST_DATA_DIR=../shared/data/mnist CMAPSS_DATA_DIR=../shared/data/cmapss \\
        .venv/bin/python benchmarks/pipeline_memory.py --epochs 2 --json benchmarks/results/pipeline_memory.json

Prints a Markdown table; ``--json FILE`` writes the figures there.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
PIPELINES = ["rul_vae", "af_rvae", "denoising_ae", "sparse_ae", "contractive_ae", "vae", "vq_vae", "vae_classifier"]
LIMIT_GIB = 8.0


def tree_rss(process: psutil.Process) -> int:
    """Bytes resident in ``process`` and all its descendants now."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass  # ended between listing and reading
    return total


def measure(pipeline: str, epochs: int | None, interval: float) -> dict:
    command = [sys.executable, "-m", "kedro", "run", f"--pipelines={pipeline}"]
    if epochs:
        command.append(f"--params={pipeline}.training.epochs={epochs}")
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    process, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        peak = max(peak, tree_rss(process))
        time.sleep(interval)
    stderr = child.stderr.read()
    if child.returncode != 0:
        raise RuntimeError(f"kedro run --pipelines={pipeline} failed (exit {child.returncode}):\n{stderr[-3000:]}")
    return {"pipeline": pipeline, "epochs": epochs, "peak_gib": peak / 2**30, "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipelines", nargs="*", default=PIPELINES)
    parser.add_argument("--epochs", type=int, help="cap every training at this many epochs (default: as configured)")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between samples")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    for pipeline in args.pipelines:
        rows.append(measure(pipeline, args.epochs, args.interval))
        print(f"{pipeline}: {rows[-1]['peak_gib']:.2f} GiB", file=sys.stderr)
    print("| pipeline | epochs | peak memory, process tree (GiB) | under 8 GiB | run (s) |\n|---|---|---|---|---|")
    for row in rows:
        ok = "yes" if row["peak_gib"] < LIMIT_GIB else "**no**"
        print(f"| {row['pipeline']} | {row['epochs'] or 'configured'} | {row['peak_gib']:.2f} | {ok} | {row['seconds']:.0f} |")
    if args.json:
        args.json.write_text(json.dumps({"machine": f"{os.cpu_count()} CPUs", "runs": rows}, indent=1))


if __name__ == "__main__":
    main()
