"""Ingestion of MNIST and the stages shared by the six MNIST pipelines."""

from autoencoder_pipelines.pipelines.mnist.pipeline import create_pipeline

__all__ = ["create_pipeline"]
