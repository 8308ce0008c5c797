"""``rul_vae_retrain``: train a challenger, compare it with the champion, promote if better."""

from autoencoder_pipelines.pipelines.rul_vae_retrain.pipeline import create_pipeline

__all__ = ["create_pipeline"]
