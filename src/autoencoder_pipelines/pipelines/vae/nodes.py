"""Training and evaluation nodes of ``vae``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autoencoder_pipelines import models, plotting
from autoencoder_pipelines.evaluation import training_summary
from autoencoder_pipelines.models import predict_in_chunks
from autoencoder_pipelines.models.config import VAEConfig
from autoencoder_pipelines.plotting import (
    image_rows_figure,
    latent_grid_figure,
    latent_scatter_figure,
)
from autoencoder_pipelines.promotion import champion_metrics, indexed_scores
from autoencoder_pipelines.registry import RegisteredModel
from autoencoder_pipelines.training import History, TrainingConfig, fit_configured_model


def train_vae(
    x_train: np.ndarray, x_val: np.ndarray, architecture: VAEConfig, training: TrainingConfig
) -> tuple[models.VAE, History]:
    """Fit the VAE by maximising the ELBO of the training images."""
    return fit_configured_model("vae", architecture, x_train, x_train, x_val, x_val, training)


def encode_test_set(model: models.VAE, x_test: np.ndarray) -> np.ndarray:
    """Latent means of the test images, ``(n, latent_dim)``."""
    return model.encode(x_test)


def model_metrics(model: models.VAE, x_test: np.ndarray, iwae_samples: int, seed: int) -> tuple[dict[str, float], pd.DataFrame]:
    """Test -ELBO with its two terms, and the importance-weighted estimate of -log p(x), in
    nats; and each test image's -ELBO (item ``test:<index>``; their mean is ``neg_elbo``)."""
    from autoencoder_pipelines.models.vae import test_bounds  # noqa: PLC0415 - loads Keras

    bounds = test_bounds(model, x_test, num_samples=iwae_samples, seed=seed)
    return {
        "neg_elbo": float(-bounds["elbo"].mean()),
        "reconstruction": float(bounds["reconstruction"].mean()),
        "kl": float(bounds["kl"].mean()),
        "neg_log_likelihood_iwae": float(-bounds["iwae"].mean()),
        "iwae_samples": iwae_samples,
        "latent_dim": model.config.latent_dim,
    }, indexed_scores(-np.asarray(bounds["elbo"], np.float64))


def evaluate_vae(
    model: models.VAE, x_test: np.ndarray, history: History, iwae_samples: int, seed: int, training: TrainingConfig
) -> tuple[dict[str, float], pd.DataFrame]:
    """Test -ELBO with its two terms, and the importance-weighted estimate of -log p(x), in
    nats; and each test image's -ELBO."""
    metrics, items = model_metrics(model, x_test, iwae_samples, seed)
    return {**metrics, **training_summary(history, training.monitor)}, items


def evaluate_champion(
    champion: RegisteredModel | None, x_test: np.ndarray, iwae_samples: int, seed: int
) -> tuple[dict, pd.DataFrame]:
    """The champion's test -ELBO and IWAE bound on this run's test images, and each image's -ELBO."""
    return champion_metrics(champion, lambda model: model_metrics(model, x_test, iwae_samples, seed))


def plot_vae_reconstructions(model: models.VAE, x_test: np.ndarray) -> plotting.Figure:
    """Rows: test image, its reconstruction (decoded latent mean)."""
    x = x_test[:10]
    return image_rows_figure({"input": x, "reconstruction": predict_in_chunks(model, x, chunk=1000)["reconstruction"]})


def plot_latent_space(z_test: np.ndarray, y_test: np.ndarray) -> plotting.Figure:
    """Latent means of the test images coloured by digit (first two dimensions)."""
    return latent_scatter_figure(z_test, y_test, "VAE latent space (test set)")


def plot_latent_grid(model: models.VAE, grid_size: int) -> plotting.Figure:
    """Digits decoded from a grid over the 2-D latent plane, evenly spaced in prior
    probability (inverse normal CDF), as in Kingma & Welling's figure 4."""
    if model.config.latent_dim != 2:
        raise ValueError(f"plot_latent_grid draws a 2-D latent plane; the model has latent_dim={model.config.latent_dim}.")
    from scipy.stats import norm  # noqa: PLC0415 - slow to import

    values = norm.ppf(np.linspace(0.05, 0.95, grid_size))
    z1, z2 = np.meshgrid(values, values[::-1])
    return latent_grid_figure(model.decode(np.stack([z1.ravel(), z2.ravel()], axis=1)), values)
