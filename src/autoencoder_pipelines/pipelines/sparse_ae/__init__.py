"""``sparse_ae``: a dense autoencoder whose code is kept sparse by a penalty in its loss."""

from autoencoder_pipelines.pipelines.sparse_ae.pipeline import create_pipeline

__all__ = ["create_pipeline"]
