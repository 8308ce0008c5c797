"""``vq_vae``: a convolutional VQ-VAE of MNIST."""

from autoencoder_pipelines.pipelines.vq_vae.pipeline import create_pipeline

__all__ = ["create_pipeline"]
