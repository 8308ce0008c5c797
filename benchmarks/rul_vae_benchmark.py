"""Time ``rul_vae``'s preprocessing (raw files -> windows) and its training epochs.

Both through Kedro (``kedro_slice.PipelineSlice``): the registered ``rul_vae`` pipeline,
sliced, with the project's configuration, in memory.

- Preprocessing: ingestion and preprocessing nodes, from the three raw FD001 files to
  the training and test windows, after one warm-up run; the per-node split is printed.
- Training: the pipeline's own training node (``train_rul_vae``: the trainer, the model
  of ``conf/base``) run for ``1`` and for ``1 + k`` epochs (after a discarded 1-epoch
  run that warms the process up) on the windows; the difference divided by ``k`` is the
  steady-state epoch time (model building and graph tracing cancel out).

    CMAPSS_DATA_DIR=../shared/data/cmapss python benchmarks/rul_vae_benchmark.py
    CMAPSS_DATA_DIR=../shared/data/cmapss python benchmarks/rul_vae_benchmark.py --skip-training --repeats 50

Prints the figures; ``--json FILE`` writes them there.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from kedro_slice import PipelineSlice, machine, node_inputs

PREPROCESSED = ["rul_vae.preprocessing.make_training_windows", "rul_vae.preprocessing.make_test_windows"]
TRAIN = "rul_vae.training.train_rul_vae"


def time_preprocessing(repeats: int) -> tuple[dict, dict]:
    """Median and min seconds of the preprocessing slice, and the arrays of the last run."""
    preprocessing = PipelineSlice("rul_vae", to_nodes=PREPROCESSED)
    preprocessing.run()  # warm-up: imports, caches
    preprocessing.timer.seconds.clear()
    times, outputs = [], {}
    for _ in range(repeats):
        seconds, outputs = preprocessing.timed_run()
        times.append(seconds)
    per_node = {name.rsplit(".", 1)[-1]: total / repeats for name, total in preprocessing.timer.seconds.items()}
    return {"median_s": statistics.median(times), "min_s": min(times), "repeats": repeats, "per_node_s": per_node}, outputs


def time_training(arrays: dict, epochs: int, batch_size: int | None) -> dict:
    """Steady-state seconds per epoch of the training node, by the 1-epoch / (1+k)-epoch difference."""
    training = {"verbose": 0, **({"batch_size": batch_size} if batch_size else {})}
    runs = {}
    for n in (1, 1, 1 + epochs):  # the first run warms the process up (imports, first tracing)
        node = PipelineSlice(
            "rul_vae",
            from_nodes=[TRAIN],
            to_nodes=[TRAIN],
            inputs=arrays,
            runtime_params={"rul_vae": {"training": {**training, "epochs": n, "patience": n + 1}}},
        )
        runs[n], _ = node.timed_run()
        config = node.inputs["params:rul_vae.training"]
    epoch_s = (runs[1 + epochs] - runs[1]) / epochs
    windows = len(arrays["rul_vae.x_train"])
    return {
        "batch_size": config.batch_size,
        "jit_compile": config.jit_compile,
        "epoch_s": epoch_s,
        "windows_per_s": windows / epoch_s,
        "windows": windows,
        "epochs_timed": epochs,
        "first_epoch_s": runs[1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20, help="preprocessing repetitions")
    parser.add_argument("--epochs", type=int, default=2, help="timed training epochs (k) per setting")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[None], help="default: conf/base's")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()

    results = {"machine": machine()}
    results["preprocessing"], outputs = time_preprocessing(args.repeats)
    pre = results["preprocessing"]
    print(
        f"FD001 preprocessing (raw bytes -> windows): median {pre['median_s'] * 1e3:.1f} ms, "
        f"min {pre['min_s'] * 1e3:.1f} ms over {pre['repeats']} runs"
    )
    for name, seconds in sorted(pre["per_node_s"].items(), key=lambda item: -item[1]):
        print(f"  {name:24s} {seconds * 1e3:8.1f} ms")

    if not args.skip_training:
        arrays = {dataset: outputs[dataset] for dataset in node_inputs("rul_vae", TRAIN)}
        results["training"] = []
        for batch_size in args.batch_sizes:
            row = time_training(arrays, args.epochs, batch_size)
            results["training"].append(row)
            print(
                f"training epoch: batch {row['batch_size']:4d}, jit_compile={row['jit_compile']}: {row['epoch_s']:.1f} s "
                f"({row['windows_per_s']:.0f} windows/s, {row['windows']} windows; first epoch with building {row['first_epoch_s']:.1f} s)"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
