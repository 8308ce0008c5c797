"""Shared fixtures: tiny C-MAPSS-like files generated on the fly."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autoencoder_pipelines.data.cmapss import COLUMNS
from autoencoder_pipelines.data.schemas import ENVELOPE

# Operating conditions (altitude, Mach, TRA) of FD002/FD004, and FD001's only one.
CONDITIONS = [(0.0, 0.0, 100.0), (10.0, 0.25, 100.0), (20.0, 0.7, 100.0), (42.0, 0.84, 100.0)]
# FD001's mean of each sensor s_1 ... s_21 (sea level); each higher condition reads a sixth
# of the way closer to the low end of the C-MAPSS envelope, so generated engines pass the
# engine logs' schema (data.schemas.ENVELOPE).
SENSOR_MEANS = np.array(
    [
        518.67,
        642.68,
        1590.52,
        1408.93,
        14.62,
        21.61,
        553.37,
        2388.1,
        9065.24,
        1.3,
        47.54,
        521.41,
        2388.1,
        8143.75,
        8.442,
        0.03,
        393.21,
        2388.0,
        100.0,
        38.82,
        23.29,
    ]
)
SENSOR_LOWS = np.array([ENVELOPE[f"s_{i}"][0] for i in range(1, 22)])


def make_engines(
    n_units: int,
    min_cycles: int,
    max_cycles: int,
    seed: int,
    n_conditions: int = 1,
    truncate: bool = False,
) -> tuple[pd.DataFrame, np.ndarray]:
    """C-MAPSS-like engines: 26 columns, sensors drifting towards failure.

    With ``truncate``, each engine is cut before failure (a test file) and the cycles
    it had left are returned as the true RUL.
    """
    rng = np.random.default_rng(seed)
    frames, ruls = [], []
    for unit in range(1, n_units + 1):
        life = int(rng.integers(min_cycles, max_cycles + 1))
        cut = int(rng.integers(max(2, life // 3), life)) if truncate else life
        t = np.arange(1, cut + 1)
        cond = rng.integers(0, n_conditions, size=cut)
        settings = np.array([CONDITIONS[c] for c in cond])
        settings[:, 0] += rng.normal(0, 0.002, cut)
        settings[:, 1] += rng.normal(0, 0.0002, cut)
        health = np.exp(4 * t / life) / np.exp(4)  # 0 -> 1 at failure
        level = SENSOR_MEANS[None, :] - (cond[:, None] / 6.0) * (SENSOR_MEANS - SENSOR_LOWS)[None, :]
        sensors = level * (1.0 + rng.normal(0, 0.001, (cut, 21)))
        sensors += health[:, None] * SENSOR_MEANS[None, :] * np.linspace(0.002, 0.01, 21)[None, :]
        frames.append(np.column_stack([np.full(cut, unit), t, settings, sensors]))
        ruls.append(life - cut)
    frame = pd.DataFrame(np.vstack(frames), columns=list(COLUMNS))
    return frame.astype({"unit_nr": int, "time_cycles": int}), np.array(ruls)


def to_text(frame: pd.DataFrame) -> bytes:
    """Whitespace-separated text like the NASA files (no header)."""
    return frame.to_csv(sep=" ", header=False, index=False, float_format="%.4f").encode()


def pytest_report_header() -> str:
    import keras

    return f"keras backend: {keras.backend.backend()}"


@pytest.fixture
def engines() -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """(train, test, true test RUL) frames with 10 training and 6 test engines."""
    train, _ = make_engines(10, 40, 70, seed=0)
    test, rul = make_engines(6, 40, 70, seed=1, truncate=True)
    return train, test, rul


def write_cmapss(folder: Path, subset: str = "FD001", n_train: int = 12, n_test: int = 6, seed: int = 0) -> Path:
    """Write train/test/RUL files of a subset into ``folder``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    n_conditions = 4 if subset in ("FD002", "FD004") else 1
    train, _ = make_engines(n_train, 40, 70, seed=seed, n_conditions=n_conditions)
    test, rul = make_engines(n_test, 40, 70, seed=seed + 1, n_conditions=n_conditions, truncate=True)
    (folder / f"train_{subset}.txt").write_bytes(to_text(train))
    (folder / f"test_{subset}.txt").write_bytes(to_text(test))
    (folder / f"RUL_{subset}.txt").write_bytes("".join(f"{r} \n" for r in rul).encode())
    return folder


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX bytes of a uint8 array: magic 0x0000 08 ndim, big-endian dims, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def make_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` MNIST-like 28x28 uint8 images (a bright bar whose angle encodes the label)."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 10).astype(np.uint8)
    rows, cols = np.mgrid[0:28, 0:28] - 13.5
    angle = labels[:, None, None] * np.pi / 10
    distance = np.abs(rows * np.cos(angle) - cols * np.sin(angle))
    images = np.clip(255 * np.exp(-(distance**2) / 4) * (np.hypot(rows, cols) < 11), 0, 255)
    images = np.clip(images + rng.normal(0, 10, images.shape), 0, 255)
    return images.astype(np.uint8), labels


def write_mnist(folder: Path, n_train: int = 300, n_test: int = 100) -> Path:
    """The four gzip IDX files of a small MNIST-like dataset, under their standard names."""
    import gzip

    folder.mkdir(parents=True, exist_ok=True)
    for split, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        images, labels = make_digits(n, seed)
        (folder / f"{split}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
        (folder / f"{split}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    return folder


# xdist's `--dist loadscope` gives each worker whole scopes (a module, or a folder named in
# SHARED_SCOPES), in collection order; by default it orders them by their number of tests, so
# the few-but-long modules came last and one worker ran them alone at the end. The longest
# first instead (seconds per scope on the 2-core machine, `pytest -n auto --dist loadscope
# --junitxml=...`; scopes not listed take a few seconds and follow in their own order). Used
# with `--no-loadscope-reorder` (pyproject.toml's addopts).
SCOPE_SECONDS = {
    "tests/pipelines/test_retraining.py": 245,
    "tests/pipelines/test_rul_vae.py": 217,
    "tests/deploy/test_airflow_dag.py": 151,
    "tests/ensembles": 150,
    "tests/models/test_recurrent_vae.py": 130,
    "tests/test_time_to_quality.py": 110,
    "tests/test_peer_benchmark.py": 75,
    "tests/pipelines/test_mnist_pipelines.py": 98,
    "tests/models/test_contract.py": 96,
    "tests/models/test_backends.py": 84,
    "tests/pipelines/test_rul_vae_retrain.py": 78,
    "tests/pipelines/test_af_rvae.py": 77,
    "tests/pipelines/test_arrivals.py": 37,
    "tests/models/test_autoencoders.py": 22,
    "tests/test_imports.py": 20,
    "tests/models/test_ensemble.py": 18,
}
# Folders whose modules share a package-scoped fixture too costly to make twice: one worker
# runs all of them. tests/ensembles: one Ray cluster, its workers' TensorFlow imported once.
SHARED_SCOPES = ("tests/ensembles/",)


def _scope(nodeid: str) -> str:
    module = nodeid.split("::")[0]
    return next((folder.rstrip("/") for folder in SHARED_SCOPES if module.startswith(folder)), module)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: -SCOPE_SECONDS.get(_scope(item.nodeid), 0))  # stable: order within a scope kept


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadscope`, with the folders of SHARED_SCOPES each one scope."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedScopeScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scope(nodeid)

    return SharedScopeScheduling(config, log)


# The tests never open the repository's own MLflow database (a developer's runs and registry):
# every session runs in a project copy or with MLFLOW_TRACKING_URI set, and an MLflow client
# left to its default URI would open ./mlflow.db. Two xdist workers migrating it at once on a
# fresh clone failed CI. Checked by the process that started the suite, against the file's
# state at the start.
REPOSITORY_DATABASE = Path(__file__).resolve().parents[1] / "mlflow.db"
_DATABASE = pytest.StashKey["tuple[int, int] | None"]()


def _database_stamp() -> tuple[int, int] | None:
    return (REPOSITORY_DATABASE.stat().st_mtime_ns, REPOSITORY_DATABASE.stat().st_size) if REPOSITORY_DATABASE.exists() else None


def pytest_sessionstart(session):
    session.config.stash[_DATABASE] = _database_stamp()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    before, after = session.config.stash.get(_DATABASE, "unset"), _database_stamp()
    if hasattr(session.config, "workerinput") or before == after:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep(
            "=",
            f"FAILED: the suite created or wrote the repository's MLflow database {REPOSITORY_DATABASE} "
            f"(modified time and size {before} -> {after}): a test opened MLflow with its default "
            "tracking URI; give it its project's",
            red=True,
        )
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
