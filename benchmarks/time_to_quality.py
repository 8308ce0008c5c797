"""Time to quality, ours against the peer (Rapidae 0.0.5): the peer harness's end-to-end mode.

Where ``peer_benchmark.py`` times epochs of one architecture on both sides, this times
what a user waits for: from a fresh process to a trained model's test figures. In
alternating processes on the same machine (peer, ours, ours quicker ...; ``--repeats``
rounds), it runs

- **the peer's own RUL example** (``examples/rve_RUL.ipynb``: its architecture and recipe,
  through its public API, to its early stop; ``ttq_worker.peer_rul``) on FD001, seeded;
- **ours**: ``kedro run --pipeline=rul_vae`` (``conf/base``, or ``--env``), exactly as a
  user runs it;
- **ours, quicker**: the same with parameter overrides (``--quicker NAME:OVERRIDES``,
  e.g. fewer ensemble members), candidates for the quickest configuration that still
  matches the peer's quality.

For each process: its wall time and the **machine-wide** CPU-seconds over it (from
``/proc/stat``, so Ray workers and every child count; run it on an idle machine), then
(untimed; ours read by this process from the run's files) the test RMSE and NASA score of the last window of every test engine (truth
capped at 125), and the validation RMSE over every window of the run's own validation
engines (each side's own seeded split of the training engines, 20 of 100 on FD001). The
quickest of ours whose **validation** RMSE is at most the peer's is marked as the
configuration that matches it: chosen on validation, its test figures then say whether
the choice held.

    CMAPSS_DATA_DIR=../shared/data/cmapss .venv/bin/python benchmarks/time_to_quality.py \\
        --quicker one-member:rul_vae.training.ensemble.members=1 \\
        --json benchmarks/results/time_to_quality_rul_vae_cpu.json --markdown benchmarks/results/time_to_quality_rul_vae_cpu.md
    # quick mode, on the test's tiny data and models (the harness's test): ours in conf/test,
    # the peer stopped after a few epochs
    .venv/bin/python benchmarks/time_to_quality.py --env test --peer-max-epochs 2 ...

``--task denoising_ae`` (or ``sparse_ae``, ``contractive_ae``: the dense MNIST models) does
the same with the peer's example of that model (``ttq_worker.peer_mnist``: its size,
epochs and learning rate, trained on our 54,000 training images so both sides leave the
same 6,000 validation images unseen) against ``kedro run --pipeline=<task>``; the figures
are test and validation MSE (and the code's mean activation for ``sparse_ae``, the
encoder's mean Jacobian norm for ``contractive_ae``), the match is on validation MSE:

    MNIST_DATA_DIR=../shared/data/mnist .venv/bin/python benchmarks/time_to_quality.py --task denoising_ae \\
        --quicker one-copy:denoising_ae.noise.train_copies=1 --json ... --markdown ...

The peer runs in the virtual environment ``peer_benchmark.py`` makes (``--peer-venv``) or
in ``--peer-python``. Ours writes its run into ``--project`` (default: this repository,
its ``data/`` and MLflow store, as a user's run would).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKER = HERE / "ttq_worker.py"
sys.path.insert(0, str(HERE))

import ttq_worker  # noqa: E402
from peer_benchmark import machine, peer_python, publish  # noqa: E402 - the harness's own peer environment


def machine_cpu_seconds() -> float:
    """CPU-seconds every core of the machine has spent busy since boot (``/proc/stat``)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def timed(command: list[str], env: dict, cwd: Path, log: Path) -> dict:
    """Run ``command`` to its end: wall seconds and machine-wide CPU-seconds. Its output
    goes to ``log``; a failure raises with the log's end."""
    cpu, start = machine_cpu_seconds(), time.perf_counter()
    with log.open("wb") as out:
        code = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    seconds, cpu = time.perf_counter() - start, machine_cpu_seconds() - cpu
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} failed (exit {code}); its output ends:\n{log.read_text()[-3000:]}")
    return {"wall_s": seconds, "machine_cpu_s": cpu}


def worker_result(python: Path, spec: dict, env: dict, log: Path) -> tuple[dict, dict]:
    """``(timing, RESULT)`` of one ``ttq_worker.py`` process."""
    timing = timed([str(python), str(WORKER), json.dumps(spec)], env, HERE.parent, log)
    lines = [line for line in log.read_text().splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise RuntimeError(f"{spec['side']}: no RESULT line in {log}:\n{log.read_text()[-3000:]}")
    return timing, json.loads(lines[-1][len("RESULT ") :])


# Per task: the peer's example, the raw data it reads, the figures of a row (key, header,
# format; lower is better for each) and the one the quickest matching configuration is chosen on.
TASKS = {
    "rul_vae": {
        "peer": "the peer's RUL example",
        "data": "CMAPSS_DATA_DIR",
        "columns": [
            ("val_rmse", "validation RMSE", ".2f"),
            ("test_rmse", "test RMSE", ".2f"),
            ("test_score", "NASA score", ".1f"),
        ],
        "match": "val_rmse",
    },
    "denoising_ae": {
        "peer": "the peer's denoising example",
        "data": "MNIST_DATA_DIR",
        "columns": [("val_mse", "validation MSE", ".4f"), ("test_mse", "test MSE vs clean", ".4f")],
        "match": "val_mse",
    },
    "sparse_ae": {
        "peer": "the peer's sparse example",
        "data": "MNIST_DATA_DIR",
        "columns": [
            ("val_mse", "validation MSE", ".4f"),
            ("test_mse", "test MSE", ".4f"),
            ("mean_activation", "mean code activation", ".3f"),
        ],
        "match": "val_mse",
    },
    "contractive_ae": {
        "peer": "the peer's contractive example",
        "data": "MNIST_DATA_DIR",
        "columns": [
            ("val_mse", "validation MSE", ".4f"),
            ("test_mse", "test MSE", ".4f"),
            ("jacobian_norm", "mean ‖J‖_F", ".2f"),
        ],
        "match": "val_mse",
    },
}


def mnist_split(args, path: Path) -> Path:
    """Our seeded, stratified split of the 60,000 training images (the task's ``data`` settings in
    the project's configuration), written for the peer: ``train`` and ``validation`` indices."""
    import numpy as np

    from autoencoder_pipelines.data import mnist
    from autoencoder_pipelines.data.config import MNISTDataConfig

    with ttq_worker._session({"project": str(args.project), "env": args.env, "params": split_params(args.params)}) as session:
        data = MNISTDataConfig.model_validate(session.load_context().params[args.task]["data"])
    name = mnist.FILES["train_labels"]
    raw = mnist.decompress((Path(os.environ["MNIST_DATA_DIR"]) / name).read_bytes(), name)
    train, validation = mnist.split_train_validation(
        mnist.parse_idx(raw, name, (None,)), data.validation_fraction, data.split_seed
    )
    np.savez(path, train=train, validation=validation)
    return path


def split_params(params: str) -> list[str]:
    return [p for p in params.split(",") if p]


def run_peer(python: Path, args, env: dict, logs: Path, tag: str) -> dict:
    spec = {"side": "peer", "task": args.task, "seed": args.seed}
    if args.task != "rul_vae":
        spec["split"] = str(logs / "split.npz")
    if args.peer_max_epochs:
        spec["max_epochs"] = args.peer_max_epochs
    timing, figures = worker_result(python, spec, env, logs / f"peer-{tag}.log")
    return {"side": "peer", "configuration": TASKS[args.task]["peer"], **timing, **figures}


def run_ours(name: str, overrides: list[str], args, env: dict, logs: Path, tag: str) -> dict:
    command = [sys.executable, "-m", "kedro", "run", f"--pipelines={args.task}"]
    if args.env:
        command.append(f"--env={args.env}")
    if overrides:
        command.append(f"--params={','.join(overrides)}")
    stem = f"ours-{name.replace('/', '_')}-{tag}"
    timing = timed(command, env, args.project, logs / f"{stem}.log")
    # read in this process (our environment): a process fewer, and untimed anyway
    spec = {"project": str(args.project), "env": args.env, "params": overrides, "task": args.task}
    figures = (ttq_worker.ours_rul if args.task == "rul_vae" else ttq_worker.ours_mnist)(spec)
    return {"side": "ours", "configuration": name, "overrides": overrides, **timing, **figures}


def summarise(report: dict) -> None:
    """Medians over the rounds per configuration, each one's speed-up on the peer, and the
    quickest of ours that matches the peer on validation."""
    import statistics

    rows: dict[str, list[dict]] = {}
    for run in report["runs"]:
        rows.setdefault(run["configuration"], []).append(run)
    summary = []
    for name, runs in rows.items():
        row = {"configuration": name, "side": runs[0]["side"], "rounds": len(runs)}
        for key in ("wall_s", "machine_cpu_s", "epochs", *(key for key, _, _ in TASKS[report["task"]]["columns"])):
            row[key] = statistics.median(r[key] for r in runs)
        summary.append(row)
    peer = next(row for row in summary if row["side"] == "peer")
    for row in summary:
        row["peer_time_over_this"] = peer["wall_s"] / row["wall_s"]
        row["peer_cpu_over_this"] = peer["machine_cpu_s"] / row["machine_cpu_s"]
    match = TASKS[report["task"]]["match"]
    matching = [row for row in summary if row["side"] == "ours" and row[match] <= peer[match]]
    report["summary"] = summary
    report["quickest_matching"] = min(matching, key=lambda row: row["wall_s"])["configuration"] if matching else None


def markdown(report: dict) -> str:
    columns = TASKS[report["task"]]["columns"]
    lines = [
        f"`{report['task']}`. Machine: {report['machine']}; {report['date']}. Command: `{report['command']}`",
        "",
        "| configuration | rounds | wall s | machine CPU-s | epochs | "
        + " | ".join(header for _, header, _ in columns)
        + " | peer's time / this (CPU) |",
        "|---|---|---|---|---|" + "---|" * len(columns) + "---|",
    ]
    for row in report["summary"]:
        name = row["configuration"] if row["side"] == "peer" else f"ours: {row['configuration']}"
        if row["configuration"] == report["quickest_matching"]:
            name += " (quickest matching the peer on validation)"
        lines.append(
            f"| {name} | {row['rounds']} | {row['wall_s']:.0f} | {row['machine_cpu_s']:.0f} | {row['epochs']:.0f} | "
            + " | ".join(format(row[key], spec) for key, _, spec in columns)
            + f" | **{row['peer_time_over_this']:.2f}** ({row['peer_cpu_over_this']:.2f}) |"
        )
    if report["quickest_matching"] is None:
        lines += ["", "No configuration of ours reached the peer's validation figure."]
    return "\n".join(lines) + "\n"


def parse_quicker(value: str) -> tuple[str, list[str]]:
    """``NAME:KEY=VALUE[,KEY=VALUE...]``, each key a dotted parameter path."""
    name, _, overrides = value.partition(":")
    pairs = overrides.split(",") if overrides else []
    if not name or not pairs or not all(re.fullmatch(r"[A-Za-z_]\w*(\.\w+)+=.+", pair) for pair in pairs):
        raise argparse.ArgumentTypeError(
            f"--quicker: expected NAME:KEY=VALUE[,KEY=VALUE...] with dotted keys "
            f"(e.g. one-member:rul_vae.training.ensemble.members=1); got {value!r}"
        )
    return name, pairs


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=sorted(TASKS), default="rul_vae", help="the pipeline, against the peer's example of it")
    parser.add_argument("--quicker", action="append", type=parse_quicker, default=[], metavar="NAME:KEY=VALUE[,KEY=VALUE]")
    parser.add_argument("--params", default="", help="overrides for every run of ours, as kedro run --params takes them")
    parser.add_argument("--env", help="Kedro environment of our runs (default: base)")
    parser.add_argument("--project", type=Path, default=HERE.parent, help="the project our runs write into")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of peer, ours, ours quicker ...")
    parser.add_argument("--seed", type=int, default=0, help="the peer's seed (keras.utils.set_random_seed)")
    parser.add_argument("--peer-max-epochs", type=int, help="stop the peer after this many epochs (the quick mode)")
    parser.add_argument("--peer-venv", type=Path, default=HERE / ".peer-venv")
    parser.add_argument("--peer-python", type=Path, help="an interpreter that has rapidae already (skips --peer-venv)")
    parser.add_argument("--logs", type=Path, help="each process's output (default: a temporary folder)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    folder = TASKS[args.task]["data"]
    if folder not in os.environ:
        files = "train_FD001.txt ..." if folder == "CMAPSS_DATA_DIR" else "train-images-idx3-ubyte.gz ..."
        parser.error(f"set {folder} to the folder of the raw files ({files}): the peer and our runs read them there")
    args.project = args.project.resolve()
    python_peer = args.peer_python or peer_python(args.peer_venv)
    logs = args.logs or Path(tempfile.mkdtemp(prefix="time-to-quality-"))
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"}
    base = split_params(args.params)
    if args.task != "rul_vae":
        mnist_split(args, logs / "split.npz")
    configurations = [("conf/base" if not args.env else f"conf/{args.env}", base)]
    configurations += [(name, base + overrides) for name, overrides in args.quicker]
    report = {
        "task": args.task,
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "command": " ".join(["python", "benchmarks/time_to_quality.py", *(argv if argv is not None else sys.argv[1:])]),
        "runs": [],
    }
    for round_ in range(args.repeats):
        report["runs"].append(run_peer(python_peer, args, env, logs, str(round_)))
        print(f"peer: {report['runs'][-1]['wall_s']:.0f} s", file=sys.stderr)
        for name, overrides in configurations:
            report["runs"].append(run_ours(name, overrides, args, env, logs, str(round_)))
            print(f"ours {name}: {report['runs'][-1]['wall_s']:.0f} s", file=sys.stderr)
            if args.json:  # what is measured so far survives a later failure
                args.json.write_text(json.dumps(report, indent=1))
    summarise(report)
    publish(report, markdown(report), args.markdown, args.json)
    return report


if __name__ == "__main__":
    main()
