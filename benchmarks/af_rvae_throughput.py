"""Training throughput of the ``af_rvae`` model (series per second) at given LSTM sizes.

Through Kedro (``kedro_slice.PipelineSlice``): the registered ``af_rvae`` pipeline, with
the project's configuration, in memory. The pipeline's own nodes simulate ``--patients``
patients per class and make their 146-point series; then its training node
(``train_af_rvae``) runs for ``1`` and ``1 + k`` epochs (after a discarded 1-epoch warm-
up run) at each LSTM size, and the difference divided by ``k`` is the steady-state epoch
time. The study's size is 300-unit LSTMs; ``conf/base`` uses 64 for CPUs.
``KERAS_BACKEND=jax`` runs it on JAX.

    python benchmarks/af_rvae_throughput.py --lstm-units 300 64 --patients 600
    KERAS_BACKEND=jax python benchmarks/af_rvae_throughput.py ...

Prints one line per size; ``--json FILE`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from kedro_slice import PipelineSlice, machine, node_inputs

TRAIN = "af_rvae.training.train_af_rvae"


def time_size(lstm_units: int, arrays: dict, args) -> dict:
    times, node, outputs = {}, None, {}
    for n in (1, 1, 1 + args.epochs):  # the first run warms the process up (imports, first tracing)
        training = {"epochs": n, "patience": n + 1, "verbose": 0, "mixed_precision": args.mixed_precision}
        if args.batch_size:
            training["batch_size"] = args.batch_size
        node = PipelineSlice(
            "af_rvae",
            from_nodes=[TRAIN],
            to_nodes=[TRAIN],
            inputs=arrays,
            runtime_params={"af_rvae": {"model": {"lstm_units": lstm_units}, "training": training}},
        )
        times[n], outputs = node.timed_run()
    import keras

    series = len(arrays["af_rvae.x_train"])
    epoch_s = (times[1 + args.epochs] - times[1]) / args.epochs
    config = node.inputs["params:af_rvae.training"]
    return {
        "lstm_units": lstm_units,
        "batch_size": config.batch_size,
        "series": series,
        "epoch_s": epoch_s,
        "series_per_s": series / epoch_s,
        "backend": keras.config.backend(),
        "jit_compile": config.jit_compile,
        "mixed_precision": config.mixed_precision,
        "parameters": outputs["af_rvae.model"].count_params(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lstm-units", type=int, nargs="+", default=[300, 64])
    parser.add_argument("--patients", type=int, default=600, help="simulated patients per class (60%% train)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: conf/base's")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs (k)")
    parser.add_argument("--mixed-precision", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    datasets = node_inputs("af_rvae", TRAIN)
    arrays = PipelineSlice(
        "af_rvae", to_outputs=datasets, runtime_params={"af_rvae": {"simulation": {"patients_per_class": args.patients}}}
    ).run()
    arrays = {dataset: arrays[dataset] for dataset in datasets}
    rows = []
    for units in args.lstm_units:
        row = time_size(units, arrays, args)
        rows.append(row)
        print(
            f"LSTM {units:4d}, batch {row['batch_size']}, {row['backend']}, jit={row['jit_compile']}, mixed={row['mixed_precision']}: "
            f"{row['epoch_s']:.2f} s per {row['series']} series = {row['series_per_s']:.0f} series/s "
            f"({row['parameters']:,} parameters)",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
