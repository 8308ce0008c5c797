"""Import the project's Keras model library, also on a machine without TensorFlow.

``autoencoder_pipelines.models`` imports ``fit_model``, which needs TensorFlow (devices,
``tf.distribute``); the model classes use only Keras ops and run on any Keras backend.
On a GPU machine that has JAX but not TensorFlow (``KERAS_BACKEND=jax``) the benchmark
scripts import the model modules directly, skipping the package's ``__init__``.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def import_model_module(name: str):
    """``autoencoder_pipelines.models.<name>``, with or without TensorFlow installed."""
    if str(REPO / "src") not in sys.path:
        sys.path.insert(0, str(REPO / "src"))
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        if "autoencoder_pipelines.models" not in sys.modules:
            package = types.ModuleType("autoencoder_pipelines.models")
            package.__path__ = [str(REPO / "src/autoencoder_pipelines/models")]
            sys.modules["autoencoder_pipelines.models"] = package
    return importlib.import_module(f"autoencoder_pipelines.models.{name}")
