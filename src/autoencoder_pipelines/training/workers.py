"""Ray for the project's parallel work (ensemble members, sweep trials): where it runs,
how many threads each task's TensorFlow/JAX may start, and whether the workers' own
output reaches this terminal.

Imports neither Keras nor Ray at module level: a Ray worker sets its thread limits
from here before the deep-learning stack starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

logger = logging.getLogger(__name__)


def thread_limits(threads: int) -> dict[str, str]:
    """Environment of a task that may use ``threads`` cores: at most that many compute
    threads, so that tasks sharing a machine do not oversubscribe its cores (read when
    TensorFlow, XLA or the BLAS start)."""
    env = {
        "OMP_NUM_THREADS": str(threads),
        "TF_NUM_INTRAOP_THREADS": str(threads),
        "TF_NUM_INTEROP_THREADS": "1" if threads == 1 else "2",
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
    }
    if "KERAS_BACKEND" in os.environ:
        env["KERAS_BACKEND"] = os.environ["KERAS_BACKEND"]
    if threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        if "--xla_cpu_multi_thread_eigen" not in flags:
            env["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()
    return env


@contextlib.contextmanager
def ray_runtime(worker_output: bool = True) -> Iterator[None]:
    """Ray for the duration of the block.

    ``worker_output``: the workers' stdout and stderr (Keras' epoch lines, their logs)
    printed on this terminal, each line prefixed with its worker; off where the driver
    shows the work itself (:class:`~autoencoder_pipelines.training.progress.ProgressView`).
    Applies to a Ray started here; errors raised in a task reach the driver either way.

    - Ray already initialised in this process (a test, a notebook, a Ray job): used as is.
    - ``RAY_ADDRESS`` set: that cluster (``ray.init()`` reads it). Its workers must be able
      to import this project (installed on every node, or shipped with
      ``RAY_RUNTIME_ENV_HOOK`` / a runtime environment) and reach paths such as the backup
      and sweep folders (shared storage); the data travel in Ray's object store.
    - Otherwise a local Ray on all of this machine's CPUs, without the dashboard.

    Ray started here is stopped at the end of the block.
    """
    import ray  # noqa: PLC0415

    if ray.is_initialized():
        yield
        return
    if os.environ.get("RAY_ADDRESS"):
        logger.info("Connecting to the Ray cluster at %s.", os.environ["RAY_ADDRESS"])
        ray.init(log_to_driver=worker_output)
    else:
        # address="local": a new Ray of this process, never a cluster that `ray start` (or an
        # earlier Cluster) left recorded in Ray's temporary folder, alive or not.
        ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=worker_output)
    try:
        yield
    finally:
        ray.shutdown()
