"""``rul_vae``: remaining useful life of turbofan engines with a recurrent variational encoder."""

from autoencoder_pipelines.pipelines.rul_vae.pipeline import create_pipeline

__all__ = ["create_pipeline"]
