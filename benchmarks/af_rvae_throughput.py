"""Training throughput of the ``af_rvae`` model (series per second) at a given size.

Builds :class:`RecurrentVAEClassifier` for 146-point AF-burden series and times training
epochs on random series (throughput does not depend on the values). The study's size is
300-unit LSTMs; ``conf/base`` uses a smaller one for CPUs.

    python benchmarks/af_rvae_throughput.py --lstm-units 300 64 --series 4096 --batch-size 256
    KERAS_BACKEND=jax python benchmarks/af_rvae_throughput.py ...   # also without TensorFlow

Prints one line per size; ``--json FILE`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).parent))


def time_size(lstm_units: int, args) -> dict:
    import keras
    import numpy as np

    from model_library import import_model_module

    RecurrentVAEClassifier = import_model_module("recurrent_vae_classifier").RecurrentVAEClassifier
    RecurrentVAEClassifierConfig = import_model_module("config").RecurrentVAEClassifierConfig

    if args.mixed_precision:
        keras.config.set_dtype_policy("mixed_float16")
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((args.series, args.steps, 1), dtype=np.float32)
    y = rng.integers(0, 6, args.series)
    config = RecurrentVAEClassifierConfig(
        input_shape=(args.steps, 1), lstm_units=lstm_units, classifier_units=200, n_classes=6,
        reconstruction_weight=1.0, kl_weight=1.0, classification_weight=10.0, seed=0,
    )
    model = RecurrentVAEClassifier(config)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True if args.jit else "auto")
    model.fit(x[: args.batch_size * 2], y[: args.batch_size * 2], batch_size=args.batch_size, epochs=1, verbose=0)
    times = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
        times.append(time.perf_counter() - start)
    epoch_s = statistics.median(times)
    return {
        "lstm_units": lstm_units,
        "batch_size": args.batch_size,
        "series": args.series,
        "epoch_s": epoch_s,
        "series_per_s": args.series / epoch_s,
        "backend": keras.config.backend(),
        "jit_compile": args.jit,
        "mixed_precision": args.mixed_precision,
        "parameters": model.count_params(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lstm-units", type=int, nargs="+", default=[300, 64])
    parser.add_argument("--series", type=int, default=2048, help="series per timed epoch")
    parser.add_argument("--steps", type=int, default=146)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs (after one warm-up)")
    parser.add_argument("--jit", action="store_true", help="force XLA; default: Keras \"auto\" (XLA on JAX and on TensorFlow GPUs)")
    parser.add_argument("--mixed-precision", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    for units in args.lstm_units:
        row = time_size(units, args)
        rows.append(row)
        print(
            f"LSTM {units:4d}, batch {args.batch_size}, {row['backend']}, jit={args.jit}, mixed={args.mixed_precision}: "
            f"{row['epoch_s']:.2f} s per {args.series} series = {row['series_per_s']:.0f} series/s "
            f"({row['parameters']:,} parameters)",
            flush=True,
        )
    if args.json:
        machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "processor": platform.machine()}
        args.json.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
