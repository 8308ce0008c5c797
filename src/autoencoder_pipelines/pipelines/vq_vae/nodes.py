"""Training and evaluation nodes of ``vq_vae``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autoencoder_pipelines import models, plotting
from autoencoder_pipelines.evaluation import (
    code_usage,
    reconstruction_metrics,
    training_summary,
)
from autoencoder_pipelines.models import predict_in_chunks
from autoencoder_pipelines.models.config import VQVAEConfig
from autoencoder_pipelines.pipelines.mnist.nodes import score_reconstructions
from autoencoder_pipelines.plotting import code_map_figure, image_rows_figure
from autoencoder_pipelines.promotion import champion_metrics
from autoencoder_pipelines.registry import RegisteredModel
from autoencoder_pipelines.training import History, TrainingConfig, fit_configured_model


def train_vq_vae(
    x_train: np.ndarray, x_val: np.ndarray, architecture: VQVAEConfig, training: TrainingConfig
) -> tuple[models.VQVAE, History]:
    """Fit the VQ-VAE (reconstruction + codebook + commitment losses)."""
    return fit_configured_model("vq_vae", architecture, x_train, x_train, x_val, x_val, training)


def quantize_test_set(model: models.VQVAE, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Code maps ``(n, h, w)`` and reconstructions (decoded from the quantised latents)."""
    outputs = predict_in_chunks(model, x_test, chunk=1000)
    return outputs["codes"].astype(np.int32), outputs["reconstruction"]


def evaluate_vq_vae(
    codes: np.ndarray,
    reconstructions: np.ndarray,
    x_test: np.ndarray,
    history: History,
    num_embeddings: int,
    training: TrainingConfig,
) -> dict[str, float]:
    """Test MSE/PSNR, codebook perplexity and the fraction of codes used."""
    return {
        **reconstruction_metrics(x_test, reconstructions),
        **code_usage(codes, num_embeddings),
        "num_embeddings": num_embeddings,
        **training_summary(history, training.monitor),
    }


def evaluate_champion(champion: RegisteredModel | None, x_test: np.ndarray) -> tuple[dict, pd.DataFrame]:
    """The champion's test MSE/PSNR and code usage on this run's test images."""

    def evaluate(model) -> tuple[dict, pd.DataFrame]:
        codes, reconstructions = quantize_test_set(model, x_test)
        metrics = {**reconstruction_metrics(x_test, reconstructions), **code_usage(codes, model.config.num_embeddings)}
        return metrics, score_reconstructions(reconstructions, x_test)

    return champion_metrics(champion, evaluate)


def plot_vq_reconstructions(reconstructions: np.ndarray, x_test: np.ndarray) -> plotting.Figure:
    """Rows: input, reconstruction."""
    return image_rows_figure({"input": x_test, "reconstruction": reconstructions})


def plot_code_maps(codes: np.ndarray, reconstructions: np.ndarray, x_test: np.ndarray) -> plotting.Figure:
    """Each image, its map of codebook indices and its reconstruction."""
    return code_map_figure(x_test, codes, reconstructions)
