"""Keep TensorFlow's native start-up messages off a CPU run's terminal.

TensorFlow's C++ side writes to the process's stderr: "Could not find cuda drivers",
"failed call to cuInit", CPU-feature notes. ``TF_CPP_MIN_LOG_LEVEL`` filters what its
logging emits once initialised; the lines its shared libraries print while they load,
before that logging exists ("All log messages before absl::InitializeLog() is called
are written to STDERR"), it cannot. :func:`install` therefore sets the level (unless the
user did) and, while ``tensorflow`` is first imported, points file descriptor 2 at
``/dev/null``. Python exceptions raised by that import still propagate as usual.

``TF_CPP_MIN_LOG_LEVEL=0`` (or anything below 3) in the environment shows everything.
Called from ``settings.py``, so every ``kedro`` command gets it before any node loads
TensorFlow.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import sys


@contextlib.contextmanager
def native_stderr_silenced():
    """File descriptor 2 goes to ``/dev/null`` inside the block (C libraries included)."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Wraps the first import of ``tensorflow`` in :func:`native_stderr_silenced`."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once: find the real spec without coming back here
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def quiet_exec_module(module):
            with native_stderr_silenced():
                exec_module(module)

        spec.loader.exec_module = quiet_exec_module
        return spec


def install() -> None:
    """Quiet TensorFlow's start-up unless ``TF_CPP_MIN_LOG_LEVEL`` asks for its messages."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if os.environ["TF_CPP_MIN_LOG_LEVEL"] != "3" or "tensorflow" in sys.modules:
        return
    if not any(isinstance(finder, _QuietTensorFlowImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())
