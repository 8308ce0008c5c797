"""Training and evaluation nodes of ``vae_classifier``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autoencoder_pipelines import models, plotting
from autoencoder_pipelines.evaluation import classification_metrics, training_summary
from autoencoder_pipelines.models import predict_in_chunks
from autoencoder_pipelines.models.config import VAEClassifierConfig
from autoencoder_pipelines.pipelines.mnist.nodes import score_classifications
from autoencoder_pipelines.plotting import (
    confusion_matrix_figure,
    latent_scatter_figure,
)
from autoencoder_pipelines.promotion import champion_metrics
from autoencoder_pipelines.registry import RegisteredModel
from autoencoder_pipelines.training import History, TrainingConfig, fit_configured_model


def train_vae_classifier(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    architecture: VAEClassifierConfig,
    training: TrainingConfig,
) -> tuple[models.VAEClassifier, History]:
    """Fit the VAE and its classifier jointly; ``y`` are the digit labels."""
    return fit_configured_model("vae_classifier", architecture, x_train, y_train, x_val, y_val, training)


def classify_test_set(model: models.VAEClassifier, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latent means ``(n, latent_dim)`` and class probabilities ``(n, n_classes)``."""
    outputs = predict_in_chunks(model, x_test, chunk=1000)
    return outputs["z_mean"], outputs["probabilities"]


def evaluate_vae_classifier(probabilities: np.ndarray, y_test: np.ndarray, history: History, training: TrainingConfig) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix."""
    return {**classification_metrics(probabilities, y_test), **training_summary(history, training.monitor)}


def evaluate_champion(champion: RegisteredModel | None, x_test: np.ndarray, y_test: np.ndarray) -> tuple[dict, pd.DataFrame]:
    """The champion's test accuracy, macro-F1 and confusion matrix on this run's test
    images, and each image's correctness."""

    def evaluate(model) -> tuple[dict, pd.DataFrame]:
        probabilities = classify_test_set(model, x_test)[1]
        return classification_metrics(probabilities, y_test), score_classifications(probabilities, y_test)

    return champion_metrics(champion, evaluate)


def plot_confusion_matrix(metrics: dict) -> plotting.Figure:
    """The test confusion matrix."""
    return confusion_matrix_figure(np.asarray(metrics["confusion_matrix"]), label_name="digit")


def plot_latent_space(z_test: np.ndarray, y_test: np.ndarray, tsne_points: int, seed: int) -> plotting.Figure:
    """Latent means of test images coloured by digit: the plane itself when the latent is
    2-D, else a t-SNE embedding of ``tsne_points`` images drawn with ``seed``."""
    if z_test.shape[1] == 2:
        return latent_scatter_figure(z_test, y_test, "Latent space (test set)")
    from sklearn.manifold import TSNE  # noqa: PLC0415 - slow to import; only for latents above 2-D

    pick = np.random.default_rng(seed).choice(len(z_test), size=min(tsne_points, len(z_test)), replace=False)
    embedded = TSNE(n_components=2, perplexity=min(30.0, (len(pick) - 1) / 3), random_state=seed).fit_transform(z_test[pick])
    return latent_scatter_figure(
        embedded, y_test[pick], f"t-SNE of the {z_test.shape[1]}-D latent space ({len(pick)} test images)", "t-SNE 1", "t-SNE 2"
    )
