"""``contractive_ae``: a dense autoencoder with the contractive penalty, next to a plain one."""

from autoencoder_pipelines.pipelines.contractive_ae.pipeline import create_pipeline

__all__ = ["create_pipeline"]
