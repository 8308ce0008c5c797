"""Training throughput (samples/s, steady state) and peak memory of the six MNIST models.

Through Kedro (``kedro_slice.PipelineSlice``): each model's registered pipeline, sliced,
with the project's configuration (``conf/base``: architecture, batch size, learning
rate), in memory. The MNIST files are read through the catalog (``MNIST_DATA_DIR``),
ingested and preprocessed by the pipeline's own nodes; then the pipeline's training node
runs for ``1`` and ``1 + k`` epochs (after a discarded 1-epoch warm-up run), and the
difference divided by ``k`` is the steady-state epoch time (model building and graph
tracing cancel out). Each model runs in its own process, so the peak resident memory
(``ru_maxrss``, TensorFlow included) is that model's alone.

    MNIST_DATA_DIR=../shared/data/mnist python benchmarks/mnist_benchmark.py
    MNIST_DATA_DIR=../shared/data/mnist python benchmarks/mnist_benchmark.py --models vae vq_vae --epochs 2 --json benchmarks/results/mnist_cpu.json

Prints a Markdown table; ``--json FILE`` writes the figures there.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from kedro_slice import PipelineSlice, machine, node_inputs

# pipeline -> its training node (the contractive pipeline's plain baseline is not timed)
TRAINING_NODES = {
    "denoising_ae": "denoising_ae.training.train_denoising_ae",
    "sparse_ae": "sparse_ae.training.train_sparse_ae",
    "contractive_ae": "contractive_ae.training.train_contractive_ae",
    "vae": "vae.training.train_vae",
    "vq_vae": "vq_vae.training.train_vq_vae",
    "vae_classifier": "vae_classifier.training.train_vae_classifier",
}


def measure(pipeline: str, epochs: int) -> dict:
    """Steady-state epoch time of ``pipeline``'s training node on the real MNIST images."""
    train = TRAINING_NODES[pipeline]
    datasets = node_inputs(pipeline, train)
    arrays = PipelineSlice(pipeline, to_outputs=datasets).run()
    times, node = {}, None
    for n in (1, 1, 1 + epochs):  # the first run warms the process up (imports, first tracing)
        node = PipelineSlice(
            pipeline,
            from_nodes=[train],
            to_nodes=[train],
            inputs=arrays,
            runtime_params={pipeline: {"training": {"epochs": n, "patience": n + 1, "verbose": 0}}},
        )
        times[n], outputs = node.timed_run()
    model = outputs[f"{pipeline}.model"]
    config = node.inputs[f"params:{pipeline}.training"]
    samples = len(arrays[datasets[0]])  # the training inputs (denoising_ae: every noisy copy)
    epoch_s = (times[1 + epochs] - times[1]) / epochs
    return {
        "pipeline": pipeline,
        "parameters": int(model.count_params()),
        "batch_size": config.batch_size,
        "samples": samples,
        "epoch_s": round(epoch_s, 2),
        "samples_per_s": round(samples / epoch_s, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(TRAINING_NODES), choices=list(TRAINING_NODES))
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs (k)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one model in this process
    args = parser.parse_args()

    if args.one:
        print(json.dumps(measure(args.one, args.epochs)))
        return

    rows = []
    for pipeline in args.models:
        out = subprocess.run(
            [sys.executable, __file__, "--one", pipeline, "--epochs", str(args.epochs)],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{pipeline}: {rows[-1]}", file=sys.stderr)

    print("\n| pipeline | parameters | batch | samples | samples/s | epoch (s) | peak RSS (MiB) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['pipeline']} | {r['parameters']:,} | {r['batch_size']} | {r['samples']:,} | {r['samples_per_s']:,.0f} | "
            f"{r['epoch_s']} | {r['peak_rss_mib']:,.0f} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": rows}, indent=2))


if __name__ == "__main__":
    main()
