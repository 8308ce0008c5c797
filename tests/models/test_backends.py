"""The model contract suite on the JAX backend too.

The Keras backend is fixed when Keras is first imported, so the suite runs again in a
fresh interpreter with ``KERAS_BACKEND=jax``; this process runs it on TensorFlow, the
default. JAX is a dev dependency.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SUITE = Path(__file__).with_name("test_contract.py")


@pytest.mark.slow
def test_the_model_contract_suite_passes_on_jax():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(SUITE), "-p", "no:cacheprovider", "--durations=8", "-W", "ignore::DeprecationWarning"],
        capture_output=True,
        text=True,
        env={**os.environ, "KERAS_BACKEND": "jax"},
        cwd=SUITE.parents[2],
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout
    assert "keras backend: jax" in result.stdout  # the header conftest.py prints
