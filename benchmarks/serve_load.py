"""Load benchmark of the served ``rul_vae`` champion: throughput and latency over loopback.

Starts ``mlflow models serve`` on 127.0.0.1 for the registered model (or uses a server
already running, ``--url``), then sends a fixed number of requests from a few concurrent
clients. Each request is a CSV table of ``--engines-per-request`` real engines taken in
turn from a C-MAPSS engine file; every answer is checked: HTTP 200 and one row per engine
sent (a missing row or a failed request counts as an error, and the script exits 1).

    # the champion that `kedro run --pipeline=rul_vae_retrain` registered (mlflow.yml's registry)
    .venv/bin/python benchmarks/serve_load.py --engines ../shared/data/cmapss/test_FD001.txt \
        --requests 400 --clients 4 --json benchmarks/results/serve_load.json

Reports requests/s and engines/s over the timed requests (after ``--warmup`` untimed
ones), and the latency percentiles p50 / p90 / p99 / max of one request as a client sees
it (queueing in the server included).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from autoencoder_pipelines.data import cmapss_files, schemas


@dataclass
class LoadReport:
    model_uri: str
    requests: int
    clients: int
    engines_per_request: int
    ok: int
    errors: int
    seconds: float
    requests_per_s: float
    engines_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    first_error: str | None
    machine: str
    date: str


def request_bodies(engines: pd.DataFrame, per_request: int, count: int) -> list[tuple[bytes, int]]:
    """``count`` CSV bodies of ``per_request`` engines each, the file's engines in turn."""
    units = np.sort(engines["unit_nr"].unique())
    groups = dict(tuple(engines.groupby("unit_nr", sort=True)))
    bodies = []
    for i in range(count):
        chosen = [units[(i * per_request + j) % len(units)] for j in range(per_request)]
        # renumber the units so that a request never repeats one (the file has fewer engines than requests ask for)
        table = pd.concat([groups[u].assign(unit_nr=k + 1) for k, u in enumerate(chosen)], ignore_index=True)
        bodies.append((table.to_csv(index=False).encode(), len(chosen)))
    return bodies


def post(url: str, body: bytes, expected_rows: int) -> tuple[float, str | None]:
    """One request: its latency in seconds and an error message (None when it answered in full)."""
    request = urllib.request.Request(f"{url}/invocations", data=body, headers={"Content-Type": "text/csv"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        return time.perf_counter() - start, f"HTTP {error.code}: {error.read()[:300]!r}"
    except OSError as error:
        return time.perf_counter() - start, f"{type(error).__name__}: {error}"
    elapsed = time.perf_counter() - start
    rows = len(answer.get("predictions", []))
    return elapsed, None if rows == expected_rows else f"{rows} rows for {expected_rows} engines"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_uri: str, workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])  # uvicorn
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-w",
        str(workers),
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env={**os.environ, "PATH": path}, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow models serve exited with {process.returncode}: see {log}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError(f"mlflow models serve did not answer /ping within 300 s: see {log}")


def run_load(url: str, bodies: list[tuple[bytes, int]], clients: int, warmup: int) -> tuple[list[float], list[str], float]:
    for body, rows in bodies[:warmup]:
        post(url, body, rows)
    timed = bodies[warmup:]
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(lambda item: post(url, *item), timed))
    seconds = time.perf_counter() - start
    return [r[0] for r in results], [r[1] for r in results if r[1] is not None], seconds


def main(argv: list[str] | None = None) -> LoadReport:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-uri", default="models:/rul_vae_FD001@champion")
    parser.add_argument("--url", help="a server already running (else one is started and stopped)")
    parser.add_argument("--engines", required=True, type=Path, help="a C-MAPSS engine file (NASA layout or with a header)")
    parser.add_argument("--engines-per-request", type=int, default=10)
    parser.add_argument("--requests", type=int, default=400, help="timed requests")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests first")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=1, help="server workers (uvicorn processes)")
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args(argv)

    engines = schemas.validate_engine_log(
        cmapss_files.read_engine_file(args.engines.read_bytes(), args.engines.name), args.engines.name
    )
    bodies = request_bodies(engines, args.engines_per_request, args.warmup + args.requests)
    process = None
    if args.url is None:
        log = Path(tempfile.mkdtemp(prefix="serve-load-")) / "server.log"
        process, url = start_server(args.model_uri, args.workers, log)
    else:
        url = args.url.rstrip("/")
    try:
        latencies, errors, seconds = run_load(url, bodies, args.clients, args.warmup)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    ms = np.asarray(latencies) * 1e3
    ok = len(latencies) - len(errors)
    report = LoadReport(
        model_uri=args.model_uri if args.url is None else f"{args.model_uri} at {url}",
        requests=len(latencies),
        clients=args.clients,
        engines_per_request=args.engines_per_request,
        ok=ok,
        errors=len(errors),
        seconds=round(seconds, 3),
        requests_per_s=round(len(latencies) / seconds, 2),
        engines_per_s=round(ok * args.engines_per_request / seconds, 1),
        p50_ms=round(float(np.percentile(ms, 50)), 1),
        p90_ms=round(float(np.percentile(ms, 90)), 1),
        p99_ms=round(float(np.percentile(ms, 99)), 1),
        max_ms=round(float(ms.max()), 1),
        first_error=errors[0] if errors else None,
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        date=datetime.now(timezone.utc).strftime("%Y-%m-%d"),
    )
    print(json.dumps(asdict(report), indent=1))
    print(
        f"| {report.date} | {report.clients} | {report.engines_per_request} | {report.requests} | {report.errors} "
        f"| {report.requests_per_s} | {report.engines_per_s} | {report.p50_ms} | {report.p99_ms} |"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(asdict(report), indent=1) + "\n")
    return report


if __name__ == "__main__":
    sys.exit(1 if main().errors else 0)
