"""``af_inference``: diagnose new patients from their pacemaker logs with the ``af_rvae`` champion."""

from autoencoder_pipelines.pipelines.af_inference.pipeline import create_pipeline

__all__ = ["create_pipeline"]
