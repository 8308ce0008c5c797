"""Training speed and data stages, ours against the peer (Rapidae 0.0.5), side by side.

For each model, the same architecture at the same batch size is trained in ours and in
the peer for ``--epochs`` epochs of ``--steps`` batches, each run in its own process
(``peer_worker.py``), alternating ours / peer / ours / peer (``--repeats`` pairs) so that
drift of the machine cancels. Per model the table gives the steady-state training
samples/s (first epoch excluded; median over epochs and runs), CPU-seconds per 1,000
samples, the ratio ours / peer of both, each side's peak memory (the process's maximum
resident set, TensorFlow included), and the arithmetic rate achieved by ours (3 x the
forward pass's multiply-add FLOPs per sample x samples/s) as a fraction of the
machine's float32 matmul rate, measured in the same run, and the "matmul floor": the
samples/s of one training step's matrix products alone (``peer_worker.gemm_ceiling_seconds``). The data stages (MNIST
ingestion, noise injection, CMAPSS preprocessing, the pacemaker simulation) are timed
the same way on the real files, against the peer's functions where it has them.

The peer runs in its own virtual environment (``--peer-venv``, created on first use:
``rapidae==0.0.5`` from the package registry with this project's TensorFlow, Keras and
NumPy versions, so both sides run the same kernels) and is driven through its public
API (``rapidae.models``, ``rapidae.pipelines.TrainingPipeline``, ``rapidae.data``).

    MNIST_DATA_DIR=../shared/data/mnist CMAPSS_DATA_DIR=../shared/data/cmapss \\
        .venv/bin/python benchmarks/peer_benchmark.py --json benchmarks/results/peer_cpu.json \\
        --markdown benchmarks/results/peer_cpu.md
    # quick mode (a few steps each, one pair; under 5 minutes once the peer's environment exists)
    .venv/bin/python benchmarks/peer_benchmark.py --quick

Prints the Markdown table; ``--markdown FILE`` and ``--json FILE`` write it and the raw figures
(the JSON after every model and stage); ``--update FILE`` re-measures some rows of an earlier
report, ``--render FILE`` prints one.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKER = HERE / "peer_worker.py"
PEER = "rapidae==0.0.5"

# The architectures compared: the peer's own (its recurrent and convolutional encoders
# are fixed in its code), ours configured to match; the dense models at our conf/base sizes.
# batch: our conf/base batch size; steps: batches per epoch in full mode (quick: in --quick).
MODELS: dict[str, dict] = {
    "denoising_ae": {
        "arch": {"hidden": [512, 256], "latent": 10},
        "batch": 256,
        "steps": 200,
        "quick": 10,
        "what": "dense AE 784-512-256-10",
    },
    "sparse_ae": {
        "arch": {"hidden": [512, 256], "latent": 32},
        "batch": 256,
        "steps": 200,
        "quick": 10,
        "what": "dense AE 784-512-256-32, KL sparsity",
    },
    "contractive_ae": {
        "arch": {"hidden": [512, 256], "latent": 10},
        "batch": 256,
        "steps": 100,
        "quick": 5,
        "what": "dense AE 784-512-256-10, contractive penalty",
    },
    "contractive_ae/projection": {
        "model": "contractive_ae",
        "arch": {"hidden": [512, 256], "latent": 10, "jacobian": "projection"},
        "batch": 256,
        "steps": 100,
        "quick": 5,
        "what": "same, ours: jacobian: projection",
    },
    "vae": {
        "arch": {"hidden": [1024, 512], "latent": 2},
        "batch": 128,
        "steps": 150,
        "quick": 10,
        "what": "MLP VAE 784-1024-512-2",
    },
    "vq_vae": {
        "arch": {"filters": [32, 64], "latent": 16, "codes": 128},
        "batch": 128,
        "steps": 60,
        "quick": 5,
        "what": "conv VQ-VAE 32-64, 128 codes of 16",
    },
    "vae_classifier": {
        "arch": {"filters": [32, 64], "dense": 16, "latent": 16, "classifier": 200},
        "batch": 128,
        "steps": 60,
        "quick": 5,
        "what": "conv VAE 32-64-16 + classifier 200",
    },
    "rul_vae": {
        "arch": {"units": 300, "window": 30, "sensors": 5},
        "batch": 128,
        "steps": 30,
        "quick": 3,
        "what": "BiLSTM 300, 30 steps x 5 sensors",
    },
    "af_rvae": {
        "arch": {"units": 300, "steps": 146, "n_classes": 6},
        "batch": 256,
        "steps": 2,
        "quick": 1,
        "what": "BiLSTM 300 enc./dec., 146 steps",
    },
}
# Ours in bfloat16 (``training.mixed_precision: bfloat16``; weights float32) against the peer
# in float32: the same architecture, other numerics. The rows' matmul columns stay float32's.
for _name in ("denoising_ae", "vae", "vq_vae", "vae_classifier", "rul_vae", "af_rvae"):
    MODELS[f"{_name}/bf16"] = {
        **MODELS[_name],
        "model": _name,
        "training": {"mixed_precision": "bfloat16"},
        "what": "same, ours: mixed_precision: bfloat16",
    }
# a much smaller version of every architecture, for --tiny (the harness's own test)
TINY = {
    "denoising_ae": {"hidden": [16, 8], "latent": 4},
    "sparse_ae": {"hidden": [16, 8], "latent": 4},
    "contractive_ae": {"hidden": [16, 8], "latent": 4},
    "contractive_ae/projection": {"hidden": [16, 8], "latent": 4, "jacobian": "projection"},
    "vae": {"hidden": [16, 8], "latent": 2},
    "vq_vae": {"filters": [4, 8], "latent": 4, "codes": 8},
    "vae_classifier": {"filters": [4, 8], "dense": 16, "latent": 4, "classifier": 8},
    "rul_vae": {"units": 8, "window": 10, "sensors": 5},
    "af_rvae": {"units": 8, "steps": 20, "n_classes": 6},
}
TINY.update({name: TINY[spec["model"]] for name, spec in MODELS.items() if name.endswith("/bf16")})
STAGES = ["mnist_ingestion", "noise_injection", "cmapss_preprocessing", "pacemaker_simulation"]
PEER_STAGES = {"mnist_ingestion", "noise_injection", "cmapss_preprocessing"}  # the peer simulates no pacemaker logs
CMAPSS_SENSORS = ["s_2", "s_3", "s_4", "s_7", "s_8", "s_9", "s_11", "s_12", "s_13", "s_14", "s_15", "s_17", "s_20", "s_21"]


def peer_python(venv: Path) -> Path:
    """The peer's interpreter; creates its virtual environment on first use."""
    python = venv / "bin" / "python"
    if python.exists():
        return python
    pins = [f"{name}=={metadata.version(name)}" for name in ("tensorflow", "keras", "numpy")]
    pins.append("pandas<3")  # the peer's preprocessing predates pandas 3 (it assigns floats into int columns)
    print(f"Creating the peer's environment in {venv}: {PEER} {' '.join(pins)}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", PEER, *pins], check=True)
    return python


def run_worker(python: Path, spec: dict, env: dict) -> dict:
    """One measurement in a fresh process; its ``RESULT`` line."""
    done = subprocess.run([str(python), str(WORKER), json.dumps(spec)], capture_output=True, text=True, env=env, cwd=HERE.parent)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(
        f"{spec['side']} {spec.get('model') or spec.get('stage')} failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
    )


def matmul_rate(python: Path, env: dict, n: int = 2048, seconds: float = 3.0) -> float:
    """The machine's float32 matmul rate (GFLOP/s): n x n products by TensorFlow on all cores."""
    code = (
        "import time, tensorflow as tf\n"
        f"n = {n}; a = tf.random.normal((n, n)); b = tf.random.normal((n, n))\n"
        "f = tf.function(lambda a, b: tf.matmul(a, b)); f(a, b).numpy()\n"
        "reps, start = 0, time.perf_counter()\n"
        f"while time.perf_counter() - start < {seconds}:\n"
        "    f(a, b).numpy(); reps += 1\n"
        "print('RESULT', 2 * n ** 3 * reps / (time.perf_counter() - start) / 1e9)\n"
    )
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(done.stdout.split("RESULT")[-1])


def steady(runs: list[dict], samples: int) -> dict:
    """Samples/s and CPU-s per 1,000 samples over every epoch but each run's first."""
    walls = [w for run in runs for w in run["wall"][1:]]
    cpus = [c for run in runs for c in run["cpu"][1:]]
    return {
        "samples_per_s": samples / statistics.median(walls),
        "cpu_s_per_1k": 1000 * statistics.median(cpus) / samples,
        "peak_rss_mib": max(run["peak_rss_mib"] for run in runs),
        "epochs_timed": len(walls),
    }


def measure_model(name: str, python_ours: Path, python_peer: Path, args, env: dict) -> dict:
    model = MODELS[name]
    arch = TINY[name] if args.tiny else model["arch"]
    batch = 8 if args.tiny else model["batch"]
    steps = args.steps or (model["quick"] if args.quick else model["steps"])
    spec = {
        "model": model.get("model", name),
        "arch": arch,
        "batch": batch,
        "steps": steps,
        "epochs": args.epochs,
        "floor": not args.quick,
        "training": model.get("training", {}),
    }
    runs = {"ours": [], "peer": []}
    for _ in range(args.repeats):
        for side, python in (("ours", python_ours), ("peer", python_peer)):
            runs[side].append(run_worker(python, {**spec, "side": side}, env))
    samples = batch * steps
    result = {"model": name, "what": model["what"], "batch": batch, "steps": steps, "arch": arch}
    for side in runs:
        result[side] = steady(runs[side], samples)
        result[side]["runs"] = runs[side]
    result["ratio"] = result["ours"]["samples_per_s"] / result["peer"]["samples_per_s"]
    result["cpu_ratio"] = result["peer"]["cpu_s_per_1k"] / result["ours"]["cpu_s_per_1k"]
    floors = [run["gemm_floor_s"] for run in runs["ours"] if run["gemm_floor_s"]]
    result["gemm_floor_samples_per_s"] = batch / statistics.median(floors) if floors else None  # not in --quick
    flops = runs["ours"][0]["flops_per_sample"]
    result["train_gflop_per_sample"] = 3 * flops / 1e9
    result["ours_gflop_s"] = result["ours"]["samples_per_s"] * 3 * flops / 1e9
    result["peer_gflop_s"] = result["peer"]["samples_per_s"] * 3 * flops / 1e9
    return result


def measure_stage(stage: str, python_ours: Path, python_peer: Path, args, env: dict) -> dict:
    # quick: one timed run after the warm-up (a first run pays imports), a tenth of the pacemaker simulation
    spec = {
        "stage": stage,
        "repeats": 1 if args.quick else 3,
        "sensors": CMAPSS_SENSORS,
        "env": args.env,
        "patients_per_class": 1120 if args.quick else None,
    }
    result = {"stage": stage, "ours": [], "peer": []}
    for _ in range(args.repeats):
        result["ours"].append(run_worker(python_ours, {**spec, "side": "ours"}, env))
        if stage in PEER_STAGES:
            result["peer"].append(run_worker(python_peer, {**spec, "side": "peer"}, env))
    for side in ("ours", "peer"):
        times = [t for run in result[side] for t in run["runs"]]
        result[f"{side}_s"] = statistics.median(times) if times else None
    if result["peer_s"]:
        result["ratio"] = result["peer_s"] / result["ours_s"]
    return result


def markdown(report: dict) -> str:
    rate = report["matmul_gflop_s"]
    lines = [
        f"Machine: {report['machine']}; {report['date']}; float32 matmul rate "
        + (
            f"{rate['before']:.0f} / {rate['after']:.0f} GFLOP/s (before / after)."
            if "after" in rate
            else f"{rate['before']:.0f} GFLOP/s (measured once: --quick)."
            if "--quick" in report["command"].split()
            else f"{rate['before']:.0f} GFLOP/s (before; the run ended before its second measurement)."
        ),
        f"Command: `{report['command']}`"
        + "".join(f"; rows re-measured by `{u['command']}` ({u['date']})" for u in report.get("updates", [])),
        "",
        "| model | architecture | batch | peer samples/s | ours samples/s | ratio | peer CPU-s/1k | ours CPU-s/1k "
        "| CPU ratio | peak MiB peer / ours | parameters peer / ours | ours GFLOP/s (% of matmul) "
        "| matmul floor samples/s (ours / peer as % of it) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    peak = max(rate["before"], rate.get("after", 0))
    for r in report["models"]:
        floor = r["gemm_floor_samples_per_s"]
        lines.append(
            f"| {r['model']} | {r['what']} | {r['batch']} | {r['peer']['samples_per_s']:,.0f} "
            f"| {r['ours']['samples_per_s']:,.0f} | **{r['ratio']:.2f}** | {r['peer']['cpu_s_per_1k']:.3f} "
            f"| {r['ours']['cpu_s_per_1k']:.3f} | {r['cpu_ratio']:.2f} "
            f"| {r['peer']['peak_rss_mib']:,.0f} / {r['ours']['peak_rss_mib']:,.0f} "
            f"| {r['peer']['runs'][0]['parameters']:,} / {r['ours']['runs'][0]['parameters']:,} "
            f"| {r['ours_gflop_s']:.1f} ({100 * r['ours_gflop_s'] / peak:.0f}%) "
            + (
                f"| {floor:,.0f} ({100 * r['ours']['samples_per_s'] / floor:.0f}% / {100 * r['peer']['samples_per_s'] / floor:.0f}%) |"
                if floor
                else "| — (not in --quick) |"
            )
        )
    if not report["models"]:
        lines = lines[:3]
    if report["stages"]:
        lines += ["", "| data stage | peer (s) | ours (s) | ratio |", "|---|---|---|---|"]
        for s in report["stages"]:
            peer = f"{s['peer_s']:.3f}" if s["peer_s"] else "— (none)"
            ratio = f"**{s['ratio']:.1f}**" if s.get("ratio") else "—"
            lines.append(f"| {s['stage']} | {peer} | {s['ours_s']:.3f} | {ratio} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models",
        nargs="*",
        choices=list(MODELS),
        help="default: every model; with --quick, every model but the */bf16 rows",
    )
    parser.add_argument("--stages", nargs="*", default=STAGES, choices=STAGES)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a few steps per epoch, 2 epochs, one pair of runs, one timed stage run, a tenth of the pacemaker "
        "simulation, no matmul floor, the matmul rate measured once (not again at the end)",
    )
    parser.add_argument("--tiny", action="store_true", help="tiny architectures and batch 8 (the harness's test)")
    parser.add_argument("--steps", type=int, help="batches per epoch (default: per model, fewer with --quick)")
    parser.add_argument("--epochs", type=int, help="epochs per run, the first not timed (default 3; 2 with --quick)")
    parser.add_argument("--repeats", type=int, help="ours/peer pairs per model (default 2; 1 with --quick)")
    parser.add_argument("--peer-venv", type=Path, default=HERE / ".peer-venv")
    parser.add_argument("--peer-python", type=Path, help="an interpreter that has rapidae already (skips --peer-venv)")
    parser.add_argument("--env", help="Kedro environment of our data stages (default: base)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--render", type=Path, help="print (and --markdown) the table of a JSON report; measures nothing")
    parser.add_argument(
        "--update", type=Path, help="a JSON report whose rows for --models and --stages are replaced by this run's"
    )
    args = parser.parse_args(argv)
    if args.render:
        report = json.loads(args.render.read_text())
        table = markdown(report)
        print(table)
        if args.markdown:
            args.markdown.write_text(table)
        return report
    if args.models is None:
        args.models = [name for name in MODELS if not (args.quick and name.endswith("/bf16"))]
    args.epochs = args.epochs or (2 if args.quick else 3)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is not timed")
    args.repeats = args.repeats or (1 if args.quick else 2)
    earlier = json.loads(args.update.read_text()) if args.update else None  # before --json may overwrite it
    python_peer = args.peer_python or peer_python(args.peer_venv)
    python_ours = Path(sys.executable)
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"}
    started = time.perf_counter()
    report = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "command": " ".join(["python", "benchmarks/peer_benchmark.py", *(argv if argv is not None else sys.argv[1:])]),
        "matmul_gflop_s": {"before": matmul_rate(python_ours, env, 512 if args.tiny else 2048, 1 if args.quick else 3)},
        "models": [],
        "stages": [],
    }
    for name in args.models:
        report["models"].append(measure_model(name, python_ours, python_peer, args, env))
        print(f"{name}: ours / peer {report['models'][-1]['ratio']:.2f}", file=sys.stderr)
        if args.json:  # what is measured so far survives a later failure
            args.json.write_text(json.dumps(report, indent=1))
    for stage in args.stages:
        report["stages"].append(measure_stage(stage, python_ours, python_peer, args, env))
        if args.json:
            args.json.write_text(json.dumps(report, indent=1))
    if not args.quick:  # quick: one measurement (a TensorFlow process fewer)
        report["matmul_gflop_s"]["after"] = matmul_rate(python_ours, env, 512 if args.tiny else 2048, 3)
    report["seconds"] = time.perf_counter() - started
    if earlier is not None:
        for key, name in (("models", "model"), ("stages", "stage")):
            fresh = {row[name]: row for row in report[key]}
            rows = [fresh.pop(row[name], row) for row in earlier[key]]
            earlier[key] = rows + list(fresh.values())
        earlier["updates"] = [
            *earlier.get("updates", []),
            {"command": report["command"], "date": report["date"], "matmul_gflop_s": report["matmul_gflop_s"]},
        ]
        report = earlier
    publish(report, markdown(report), args.markdown, args.json)
    return report


def publish(report: dict, table: str, markdown_path: Path | None, json_path: Path | None) -> None:
    """Print the table; write it and the raw report where asked (both harness modes)."""
    print(table)
    if markdown_path:
        markdown_path.write_text(table)
    if json_path:
        json_path.write_text(json.dumps(report, indent=1))


def machine() -> str:
    """What the figures were measured on, as the reports say it."""
    return (
        f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}, "
        f"TensorFlow {metadata.version('tensorflow')}, Keras {metadata.version('keras')}"
    )


if __name__ == "__main__":
    main()
