"""Keras model library: layers, losses, models and the shared fitting routine.

Independent of Kedro: the pipelines import this package, never the reverse.
Importing it registers every custom class with Keras, so ``.keras`` files load with
``safe_mode=True``.
"""

from autoencoder_pipelines.models.autoencoder import Autoencoder, ContractiveAutoencoder
from autoencoder_pipelines.models.config import (
    AutoencoderConfig,
    ContractiveAutoencoderConfig,
    RecurrentVAEArchitecture,
    RecurrentVAEClassifierConfig,
    RecurrentVAEConfig,
    TrainingConfig,
    VAEClassifierConfig,
    VAEConfig,
    VQVAEConfig,
)
from autoencoder_pipelines.models.layers import Sampling, VectorQuantizer
from autoencoder_pipelines.models.recurrent_vae import RecurrentVAE
from autoencoder_pipelines.models.recurrent_vae_classifier import RecurrentVAEClassifier
from autoencoder_pipelines.models.training import fit_model
from autoencoder_pipelines.models.vae import VAE
from autoencoder_pipelines.models.vae_classifier import VAEClassifier
from autoencoder_pipelines.models.vq_vae import VQVAE

MODELS = {
    "autoencoder": Autoencoder,
    "contractive_autoencoder": ContractiveAutoencoder,
    "vae": VAE,
    "vq_vae": VQVAE,
    "vae_classifier": VAEClassifier,
    "recurrent_vae": RecurrentVAE,
    "recurrent_vae_classifier": RecurrentVAEClassifier,
}

__all__ = [
    "MODELS",
    "VAE",
    "VQVAE",
    "Autoencoder",
    "AutoencoderConfig",
    "ContractiveAutoencoder",
    "ContractiveAutoencoderConfig",
    "RecurrentVAE",
    "RecurrentVAEArchitecture",
    "RecurrentVAEClassifier",
    "RecurrentVAEClassifierConfig",
    "RecurrentVAEConfig",
    "Sampling",
    "TrainingConfig",
    "VAEClassifier",
    "VAEClassifierConfig",
    "VAEConfig",
    "VQVAEConfig",
    "VectorQuantizer",
    "fit_model",
]
