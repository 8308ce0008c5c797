"""Keras model library: layers, losses, the seven model classes and the Ensemble of several.

Independent of Kedro (the pipelines import this package, never the reverse) and of the
Keras backend: the models use Keras ops only and train on TensorFlow and JAX. Fitting
(devices, seeding, early stopping, backups) is the trainer's job,
``autoencoder_pipelines.training``.

The typed configurations are imported eagerly (pydantic only); the model classes are
imported on first use (``models.VAE``, ``models.MODELS``), so a module that only names
them, such as a pipeline's ``nodes.py``, does not load Keras. :func:`model_classes`
imports every model module, which registers the custom classes with Keras so that
``.keras`` files load with ``safe_mode=True``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from autoencoder_pipelines.models.config import (
    AutoencoderConfig,
    ContractiveAutoencoderConfig,
    RecurrentVAEClassifierConfig,
    RecurrentVAEConfig,
    RULOffsetConfig,
    VAEClassifierConfig,
    VAEConfig,
    VQVAEConfig,
)

if TYPE_CHECKING:
    from autoencoder_pipelines.models.autoencoder import (
        Autoencoder,
        ContractiveAutoencoder,
    )
    from autoencoder_pipelines.models.base import ConfiguredModel
    from autoencoder_pipelines.models.ensemble import Ensemble
    from autoencoder_pipelines.models.layers import Sampling, VectorQuantizer
    from autoencoder_pipelines.models.recurrent_vae import RecurrentVAE
    from autoencoder_pipelines.models.recurrent_vae_classifier import (
        RecurrentVAEClassifier,
    )
    from autoencoder_pipelines.models.vae import VAE
    from autoencoder_pipelines.models.vae_classifier import VAEClassifier
    from autoencoder_pipelines.models.vq_vae import VQVAE

# Public class -> the module that defines it (imported on first access).
_LAZY = {
    "Autoencoder": "autoencoder",
    "ContractiveAutoencoder": "autoencoder",
    "ConfiguredModel": "base",
    "Ensemble": "ensemble",
    "VAE": "vae",
    "VQVAE": "vq_vae",
    "VAEClassifier": "vae_classifier",
    "RecurrentVAE": "recurrent_vae",
    "RecurrentVAEClassifier": "recurrent_vae_classifier",
    "Sampling": "layers",
    "VectorQuantizer": "layers",
}

# Registry name -> class name: what a training node names, and what the contract suite covers.
REGISTRY = {
    "autoencoder": "Autoencoder",
    "contractive_autoencoder": "ContractiveAutoencoder",
    "vae": "VAE",
    "vq_vae": "VQVAE",
    "vae_classifier": "VAEClassifier",
    "recurrent_vae": "RecurrentVAE",
    "recurrent_vae_classifier": "RecurrentVAEClassifier",
}


def model_class(name: str) -> type[ConfiguredModel]:
    """The model class registered as ``name`` (a key of :data:`REGISTRY`).

    Raises:
        ValueError: ``name`` is not a registered model; the message lists those that are.
    """
    if name not in REGISTRY:
        raise ValueError(f"Unknown model {name!r}; registered models: {sorted(REGISTRY)}.")
    return __getattr__(REGISTRY[name])


def predict_in_chunks(model, x, chunk: int = 1024) -> dict:
    """The model's dict outputs for ``x`` (NumPy arrays), ``chunk`` items per call of
    ``predict_on_batch``: the same compiled step as ``model.predict``, in inference mode,
    without its per-call setup (a data adapter, a progress callback), which costs more
    than the answer for a request of a few items."""
    import numpy as np  # noqa: PLC0415

    parts = [model.predict_on_batch(x[start : start + chunk]) for start in range(0, len(x), chunk)]
    return {name: np.concatenate([np.asarray(p[name]) for p in parts]) for name in parts[0]}


def model_classes() -> dict[str, type[ConfiguredModel]]:
    """Every registered model class by name (imports, and so registers with Keras, all of
    them, and the ``Ensemble`` that holds several)."""
    importlib.import_module(f"{__name__}.ensemble")
    return {name: model_class(name) for name in REGISTRY}


def __getattr__(name: str) -> Any:
    if name == "MODELS":
        return model_classes()
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MODELS",
    "predict_in_chunks",
    "REGISTRY",
    "VAE",
    "VQVAE",
    "Autoencoder",
    "AutoencoderConfig",
    "ConfiguredModel",
    "ContractiveAutoencoder",
    "ContractiveAutoencoderConfig",
    "Ensemble",
    "RecurrentVAE",
    "RecurrentVAEClassifier",
    "RecurrentVAEClassifierConfig",
    "RecurrentVAEConfig",
    "RULOffsetConfig",
    "Sampling",
    "VAEClassifier",
    "VAEClassifierConfig",
    "VAEConfig",
    "VQVAEConfig",
    "VectorQuantizer",
    "model_class",
    "model_classes",
]
