"""Training and evaluation nodes of ``sparse_ae``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autoencoder_pipelines import models, plotting
from autoencoder_pipelines.evaluation import reconstruction_metrics, training_summary
from autoencoder_pipelines.models import predict_in_chunks
from autoencoder_pipelines.models.config import AutoencoderConfig
from autoencoder_pipelines.pipelines.mnist.nodes import score_reconstructions
from autoencoder_pipelines.plotting import code_activity_figure, image_rows_figure
from autoencoder_pipelines.promotion import champion_metrics
from autoencoder_pipelines.registry import RegisteredModel
from autoencoder_pipelines.training import History, TrainingConfig, fit_configured_model


def train_sparse_ae(
    x_train: np.ndarray, x_val: np.ndarray, architecture: AutoencoderConfig, training: TrainingConfig
) -> tuple[models.Autoencoder, History]:
    """Fit the autoencoder to reconstruct its input, with the configured sparsity penalty."""
    return fit_configured_model("autoencoder", architecture, x_train, x_train, x_val, x_val, training)


def encode_test_set(model: models.Autoencoder, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes ``(n, latent_dim)`` and reconstructions of the test images."""
    outputs = predict_in_chunks(model, x_test, chunk=1000)
    return outputs["code"], outputs["reconstruction"]


def activity_metrics(codes: np.ndarray, threshold: float) -> dict[str, float]:
    """How sparse the codes are.

    - ``mean_activation``: mean of all code values (the rho-hat of the KL penalty, averaged);
    - ``active_fraction``: mean over images of the fraction of units above ``threshold``;
    - ``dead_units``: units never above ``threshold`` on any image.
    """
    active = codes > threshold
    return {
        "mean_activation": float(np.mean(codes)),
        "active_fraction": float(np.mean(active)),
        "dead_units": int(np.sum(~active.any(axis=0))),
        "activity_threshold": threshold,
    }


def evaluate_sparse_ae(
    codes: np.ndarray,
    reconstructions: np.ndarray,
    x_test: np.ndarray,
    history: History,
    activity_threshold: float,
    training: TrainingConfig,
) -> dict[str, float]:
    """Test MSE/PSNR and the sparsity of the codes."""
    return {
        **reconstruction_metrics(x_test, reconstructions),
        **activity_metrics(codes, activity_threshold),
        **training_summary(history, training.monitor),
    }


def evaluate_champion(
    champion: RegisteredModel | None, x_test: np.ndarray, activity_threshold: float
) -> tuple[dict, pd.DataFrame]:
    """The champion's test MSE/PSNR and code sparsity on this run's test images."""

    def evaluate(model) -> tuple[dict, pd.DataFrame]:
        codes, reconstructions = encode_test_set(model, x_test)
        metrics = {**reconstruction_metrics(x_test, reconstructions), **activity_metrics(codes, activity_threshold)}
        return metrics, score_reconstructions(reconstructions, x_test)

    return champion_metrics(champion, evaluate)


def plot_sparse_reconstructions(reconstructions: np.ndarray, x_test: np.ndarray) -> plotting.Figure:
    """Rows: input, reconstruction."""
    return image_rows_figure({"input": x_test, "reconstruction": reconstructions})


def plot_code_activity(codes: np.ndarray, activity_threshold: float) -> plotting.Figure:
    """Mean activation per code unit, and the distribution of all code values."""
    return code_activity_figure(codes, activity_threshold)
