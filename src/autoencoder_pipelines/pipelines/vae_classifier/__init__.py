"""``vae_classifier``: a convolutional VAE with a digit classifier on its latent space."""

from autoencoder_pipelines.pipelines.vae_classifier.pipeline import create_pipeline

__all__ = ["create_pipeline"]
