"""``denoising_ae``: a dense autoencoder trained to map noisy MNIST digits to clean ones."""

from autoencoder_pipelines.pipelines.denoising_ae.pipeline import create_pipeline

__all__ = ["create_pipeline"]
