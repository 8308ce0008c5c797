"""``vae``: an MLP variational autoencoder of MNIST with a 2-D latent space."""

from autoencoder_pipelines.pipelines.vae.pipeline import create_pipeline

__all__ = ["create_pipeline"]
