"""Training throughput (samples/s, steady state) and peak memory of the six MNIST models.

Each model is built from its ``conf/base/parameters_<pipeline>.yml`` (architecture, batch
size, learning rate) and trained on the real MNIST training images, in its own process so
that the peak resident memory (``ru_maxrss``) is that model's alone. Throughput is timed
over epochs after a warm-up epoch (graph tracing excluded).

    MNIST_DATA_DIR=../shared/data/mnist python benchmarks/mnist_benchmark.py
    python benchmarks/mnist_benchmark.py --models vae vq_vae --epochs 2 --json benchmarks/results/mnist_cpu.json

Prints a Markdown table; ``--json FILE`` writes the figures there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
PIPELINES = {
    "denoising_ae": "autoencoder",
    "sparse_ae": "autoencoder",
    "contractive_ae": "contractive_autoencoder",
    "vae": "vae",
    "vq_vae": "vq_vae",
    "vae_classifier": "vae_classifier",
}


def measure(pipeline: str, epochs: int, data_dir: Path) -> dict:
    """Train ``pipeline``'s model for 1 + ``epochs`` epochs; time the last ``epochs``."""
    import keras
    import numpy as np

    from autoencoder_pipelines.data import mnist
    from autoencoder_pipelines.models import MODELS

    params = yaml.safe_load((REPO / f"conf/base/parameters_{pipeline}.yml").read_text())[pipeline]
    images = mnist.read_images((data_dir / mnist.FILES["train_images"]).read_bytes(), mnist.FILES["train_images"])
    labels = mnist.read_labels(
        (data_dir / mnist.FILES["train_labels"]).read_bytes(), mnist.FILES["train_labels"], len(images)
    )
    x = mnist.scale_images(images, params["data"]["layout"])
    y = labels.astype("int64") if pipeline == "vae_classifier" else x
    model_class = MODELS[PIPELINES[pipeline]]
    config = model_class.config_class(**params["model"], input_shape=x.shape[1:], seed=0)
    keras.utils.set_random_seed(0)
    model = model_class(config)
    model.compile(optimizer=keras.optimizers.Adam(params["training"]["learning_rate"]))
    batch = params["training"]["batch_size"]

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    timer = Timer()
    model.fit(x, y, batch_size=batch, epochs=1 + epochs, verbose=0, callbacks=[timer])
    steady = timer.times[1:]
    return {
        "pipeline": pipeline,
        "parameters": int(model.count_params()),
        "batch_size": batch,
        "samples": len(x),
        "epoch_s": [round(t, 2) for t in steady],
        "samples_per_s": round(len(x) * len(steady) / sum(steady), 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(PIPELINES), choices=list(PIPELINES))
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs after one warm-up epoch")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("MNIST_DATA_DIR", REPO / "data/01_raw/mnist")))
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one model in this process
    args = parser.parse_args()

    if args.one:
        print(json.dumps(measure(args.one, args.epochs, args.data_dir)))
        return

    rows = []
    for pipeline in args.models:
        out = subprocess.run(
            [sys.executable, __file__, "--one", pipeline, "--epochs", str(args.epochs), "--data-dir", str(args.data_dir)],
            check=True, capture_output=True, text=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{pipeline}: {rows[-1]}", file=sys.stderr)

    print("\n| pipeline | parameters | batch | samples/s | epoch (s) | peak RSS (MiB) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['pipeline']} | {r['parameters']:,} | {r['batch_size']} | {r['samples_per_s']:,.0f} | "
              f"{' / '.join(map(str, r['epoch_s']))} | {r['peak_rss_mib']:,.0f} |")
    if args.json:
        import tensorflow as tf

        args.json.write_text(json.dumps({
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "tensorflow": tf.__version__},
            "results": rows,
        }, indent=2))


if __name__ == "__main__":
    main()
