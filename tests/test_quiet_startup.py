"""A run's terminal shows Kedro's and Keras's output, not TensorFlow's native start-up lines."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

NATIVE_NOISE = ("absl::InitializeLog", "cudart_stub", "cuInit", "cpu_feature_guard")


def _import_tensorflow_after_the_project_settings(**env: str) -> subprocess.CompletedProcess:
    code = "import autoencoder_pipelines.settings\nimport tensorflow as tf\nprint(tf.constant(2).numpy() * 21)"
    clean = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**clean, **env})


@pytest.mark.slow
def test_the_project_settings_keep_tensorflows_native_start_up_lines_off_stderr():
    result = _import_tensorflow_after_the_project_settings()
    assert result.returncode == 0 and result.stdout.strip() == "42"
    assert [line for line in result.stderr.splitlines() if any(noise in line for noise in NATIVE_NOISE)] == []


def test_a_user_who_asks_for_tensorflows_messages_gets_them_unfiltered():

    code = (
        "import os, sys\n"
        "from autoencoder_pipelines import quiet_startup\n"
        "quiet_startup.install()\n"
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL'], any(type(f).__name__ == '_QuietTensorFlowImport' for f in sys.meta_path))"
    )
    clean = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean)
    loud = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**clean, "TF_CPP_MIN_LOG_LEVEL": "0"}
    )
    assert quiet.stdout.split() == ["3", "True"]
    assert loud.stdout.split() == ["0", "False"]
