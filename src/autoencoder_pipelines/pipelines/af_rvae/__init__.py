"""``af_rvae``: visual diagnosis of atrial-fibrillation progression from simulated pacemaker logs."""

from autoencoder_pipelines.pipelines.af_rvae.pipeline import create_pipeline

__all__ = ["create_pipeline"]
