"""Keras model library: layers, losses, models and the shared fitting routine.

Independent of Kedro: the pipelines import this package, never the reverse.
Importing it registers every custom class with Keras, so ``.keras`` files load with
``safe_mode=True``.
"""

from autoencoder_pipelines.models.config import RecurrentVAEArchitecture, RecurrentVAEConfig, TrainingConfig
from autoencoder_pipelines.models.layers import Sampling
from autoencoder_pipelines.models.recurrent_vae import RecurrentVAE
from autoencoder_pipelines.models.training import fit_model

MODELS = {
    "recurrent_vae": RecurrentVAE,
}

__all__ = [
    "MODELS",
    "RecurrentVAE",
    "RecurrentVAEArchitecture",
    "RecurrentVAEConfig",
    "Sampling",
    "TrainingConfig",
    "fit_model",
]
