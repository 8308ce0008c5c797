"""``af_rvae_retrain``: train a challenger AF classifier, compare it with the champion, promote if better."""

from autoencoder_pipelines.pipelines.af_rvae_retrain.pipeline import create_pipeline

__all__ = ["create_pipeline"]
