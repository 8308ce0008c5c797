"""Time the ``rul_vae`` preprocessing (everything before training) and training epochs.

Runs the pipeline's own node functions on the real FD001 files, in memory: parsing and
validation of the three raw files, RUL labels, condition scaling, smoothing, the engine
split, and the training and test windows. Catalog I/O (parquet/npy writes) is left out:
it depends on the disk, not on the code. Then builds the model of
``conf/base/parameters_rul_vae.yml`` and times training epochs on the real windows.

    CMAPSS_DATA_DIR=../shared/data/cmapss python benchmarks/rul_vae_benchmark.py
    python benchmarks/rul_vae_benchmark.py --skip-training --repeats 50

Prints a table and, with ``--json FILE``, writes the figures there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]


def _base_parameters() -> dict:
    params = yaml.safe_load((REPO / "conf/base/parameters_rul_vae.yml").read_text())["rul_vae"]
    params["data"]["subset"] = "FD001"  # resolved from globals by Kedro; fixed here
    return params


def preprocess(raw: dict[str, bytes], data, split_engines=None) -> dict:
    """The pipeline's nodes from raw bytes to model inputs, in order.

    ``split_engines(train_frame, data) -> {"train_units": [...], "validation_units": [...]}``
    replaces the pipeline's engine split (for experiments; ``None``: the pipeline's).
    """
    from autoencoder_pipelines.pipelines.rul_vae import nodes

    train = nodes.ingest_train(raw["train"], data)
    test = nodes.ingest_test(raw["test"], data)
    test_rul = nodes.ingest_test_rul(raw["rul"], test, data)
    labelled = nodes.add_rul_labels(train, data)
    scaler = nodes.fit_condition_scaler(labelled, data)
    train_scaled, test_scaled = nodes.scale_by_condition(labelled, test, scaler)
    train_smoothed, test_smoothed = nodes.smooth_sensors(train_scaled, test_scaled, data)
    split = (split_engines or nodes.split_engines)(train_smoothed, data)
    x_train, y_train, x_val, y_val = nodes.make_training_windows(train_smoothed, split, data)
    x_test, truth = nodes.make_test_windows(test_smoothed, test_rul, data)
    return {"x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val, "x_test": x_test, "truth": truth}


def time_preprocessing(raw: dict[str, bytes], data, repeats: int) -> dict:
    preprocess(raw, data)  # warm-up: imports, pandas caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        preprocess(raw, data)
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "min_s": min(times), "repeats": repeats}


def time_training(arrays: dict, params: dict, epochs: int, batch_size: int, jit_compile: bool) -> dict:
    import keras

    from autoencoder_pipelines.models import RecurrentVAE, RecurrentVAEArchitecture, RecurrentVAEConfig

    x, y = arrays["x_train"], arrays["y_train"]
    config = RecurrentVAEConfig(
        **RecurrentVAEArchitecture(**params["model"]).model_dump(),
        window=x.shape[1],
        n_features=x.shape[2],
        mask_value=params["data"]["mask_value"],
        seed=0,
    )
    keras.utils.set_random_seed(0)
    model = RecurrentVAE(config)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit_compile)
    model.fit(x[: batch_size * 4], y[: batch_size * 4], batch_size=batch_size, epochs=1, verbose=0)  # trace
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)
        times.append(time.perf_counter() - start)
    epoch_s = statistics.median(times)
    return {
        "batch_size": batch_size,
        "jit_compile": jit_compile,
        "epoch_s": epoch_s,
        "windows_per_s": len(x) / epoch_s,
        "windows": len(x),
        "epochs_timed": epochs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("CMAPSS_DATA_DIR", str(REPO.parent / "shared/data/cmapss")))
    parser.add_argument("--repeats", type=int, default=20, help="preprocessing repetitions")
    parser.add_argument("--epochs", type=int, default=2, help="timed training epochs per setting")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None, help="default: the base parameter")
    parser.add_argument("--jit", action="store_true", help="also time XLA-compiled epochs")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()

    from autoencoder_pipelines.data.config import CMAPSSConfig

    params = _base_parameters()
    data = CMAPSSConfig(**params["data"])
    folder = Path(args.data_dir)
    raw = {kind: (folder / f"{prefix}_FD001.txt").read_bytes() for kind, prefix in (("train", "train"), ("test", "test"), ("rul", "RUL"))}

    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "processor": platform.machine()}}
    results["preprocessing"] = time_preprocessing(raw, data, args.repeats)
    pre = results["preprocessing"]
    print(f"FD001 preprocessing (raw bytes -> windows): median {pre['median_s'] * 1e3:.1f} ms, min {pre['min_s'] * 1e3:.1f} ms over {pre['repeats']} runs")

    if not args.skip_training:
        arrays = preprocess(raw, data)
        results["training"] = []
        for batch_size in args.batch_sizes or [params["training"]["batch_size"]]:
            for jit in (False, True) if args.jit else (False,):
                row = time_training(arrays, params, args.epochs, batch_size, jit)
                results["training"].append(row)
                print(
                    f"training epoch: batch {batch_size:4d}, jit_compile={jit!s:5}: {row['epoch_s']:.1f} s "
                    f"({row['windows_per_s']:.0f} windows/s, {row['windows']} windows)"
                )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
