"""One training of a run at a time: the backup folder's lock (no Keras here: cheap to import)."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def only_run_of(directory: Path):
    """Hold the backup folder's lock while training: the same run (same configuration and
    data) started twice at once waits for the first instead of sharing, and deleting, its
    backup. The lock goes with the process, so a killed run's backup is resumed. The lock
    files stay, empty, in ``<backup_dir>.locks`` beside the backups (deleting a lock file
    another process waits on would let a third take the lock too)."""
    from filelock import FileLock, Timeout  # noqa: PLC0415

    locks = directory.parent.with_name(f"{directory.parent.name}.locks")
    locks.mkdir(parents=True, exist_ok=True)
    lock = FileLock(locks / f"{directory.name}.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        logger.info("The same run is training in another process (%s is locked); waiting for it to end.", directory)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
