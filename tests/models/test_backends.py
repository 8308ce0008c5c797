"""The model contract suite, the loss functions and the trainer on the JAX backend too.

The Keras backend is fixed when Keras is first imported, so these run again in a fresh
interpreter with ``KERAS_BACKEND=jax``; this process runs them on TensorFlow, the
default. On JAX: every model's training step (jitted) and save/load round trip (``test_contract.py``),
the contractive penalty against finite differences and its closed form (its Jacobian has a
JAX branch of its own), and the trainer's fit, per-epoch backup and resumption. JAX is a dev
dependency.

Not run on JAX, by name: the contract's output names and shapes, finite loss, weights left
unchanged by evaluation, bfloat16 training, and the registry coverage check. They exercise
the same Keras ops on either backend, and running them there doubled the suite's longest
module; the count of what runs is asserted, so a test that stops running is noticed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SUITES = [
    str(HERE / "test_contract.py"),
    str(HERE / "test_losses.py"),
    str(HERE / "test_recurrent_vae.py"),
    # Every model's training step and save/load round trip; the one backend-specific loss;
    # the trainer's fit, backup and exact resume.
    "-k",
    "(test_contract and (training_step or save_and_load or jitted_on_jax)) or contractive_penalty or interrupted",
]


@pytest.mark.slow
def test_the_model_suites_pass_on_jax():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *SUITES, "-p", "no:cacheprovider", "--durations=5", "-W", "ignore::DeprecationWarning"],
        capture_output=True,
        text=True,
        # Outside a jitted step JAX compiles each operation on its own (layer builds, weight
        # initialisers): the tests spend their time compiling, not running, so XLA's backend
        # optimisations are off.
        env={**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_backend_optimization_level=0"},
        cwd=HERE.parents[1],
        timeout=800,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "keras backend: jax" in result.stdout  # the header conftest.py prints
    # every selected test ran and passed there: as many as the selection collects, none skipped
    selected = int(re.search(r"collected \d+ items / \d+ deselected / (\d+) selected", result.stdout).group(1))
    passed = int(re.search(r"(\d+) passed", result.stdout).group(1))
    # 8 model cases (7 models, vq_vae with both codebooks) x (step, save/load), every model
    # jitted, 3 penalty tests, the resume
    assert passed == selected == 21, (passed, selected)
    assert re.search(r"\d+ (skipped|failed|error)", result.stdout) is None, result.stdout[-2000:]
