"""``rul_inference``: score new engines with the champion ``rul_vae`` model."""

from autoencoder_pipelines.pipelines.rul_inference.pipeline import create_pipeline

__all__ = ["create_pipeline"]
