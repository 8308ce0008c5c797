"""Nodes of ``denoising_ae``: noise injection, training noisy -> clean, evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autoencoder_pipelines import models, plotting
from autoencoder_pipelines.data import mnist
from autoencoder_pipelines.data.config import NoiseConfig
from autoencoder_pipelines.evaluation import reconstruction_metrics, training_summary
from autoencoder_pipelines.models import predict_in_chunks
from autoencoder_pipelines.models.config import AutoencoderConfig
from autoencoder_pipelines.pipelines.mnist.nodes import score_reconstructions
from autoencoder_pipelines.plotting import image_rows_figure
from autoencoder_pipelines.promotion import champion_metrics
from autoencoder_pipelines.registry import RegisteredModel
from autoencoder_pipelines.training import History, TrainingConfig, fit_configured_model


def inject_noise(
    x_train: np.ndarray, x_val: np.ndarray, x_test: np.ndarray, noise: NoiseConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Corrupted copies of the three sets, each from its own seeded stream.

    The training set gets ``noise.train_copies`` noisy versions of every image (stacked:
    copy ``k`` of image ``i`` is row ``k * len(x_train) + i``), so the model cannot learn
    one fixed noise pattern per image; validation and test get one each.
    """
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(noise.seed).spawn(3)]
    train = np.concatenate([mnist.add_noise(x_train, noise.kind, noise.factor, streams[0]) for _ in range(noise.train_copies)])
    return (
        train,
        mnist.add_noise(x_val, noise.kind, noise.factor, streams[1]),
        mnist.add_noise(x_test, noise.kind, noise.factor, streams[2]),
    )


def train_denoising_ae(
    noisy_x_train: np.ndarray,
    x_train: np.ndarray,
    noisy_x_val: np.ndarray,
    x_val: np.ndarray,
    architecture: AutoencoderConfig,
    training: TrainingConfig,
) -> tuple[models.Autoencoder, History]:
    """Fit noisy -> clean: the loss compares the output with the clean image.

    ``noisy_x_train`` may hold several noisy copies of the training set, stacked; the
    clean targets are repeated to match.
    """
    copies, remainder = divmod(len(noisy_x_train), len(x_train))
    if remainder or copies == 0:
        raise ValueError(
            f"noisy_x_train has {len(noisy_x_train)} images, not a whole number of copies of the "
            f"{len(x_train)} clean training images."
        )
    targets = np.concatenate([x_train] * copies) if copies > 1 else x_train
    return fit_configured_model("autoencoder", architecture, noisy_x_train, targets, noisy_x_val, x_val, training)


def denoise_test_set(model: models.Autoencoder, noisy_x_test: np.ndarray) -> np.ndarray:
    """The model's output for every noisy test image."""
    return predict_in_chunks(model, noisy_x_test, chunk=1000)["reconstruction"]


def evaluate_denoising(
    denoised: np.ndarray, noisy_x_test: np.ndarray, x_test: np.ndarray, history: History, training: TrainingConfig
) -> dict[str, float]:
    """MSE and PSNR against the clean images, for the output and for the noisy input itself."""
    return {
        **reconstruction_metrics(x_test, denoised),
        **reconstruction_metrics(x_test, noisy_x_test, prefix="noisy_input_"),
        **training_summary(history, training.monitor),
    }


def evaluate_champion(
    champion: RegisteredModel | None, noisy_x_test: np.ndarray, x_test: np.ndarray
) -> tuple[dict, pd.DataFrame]:
    """The champion's MSE and PSNR against the clean test images, from this run's noisy ones."""

    def evaluate(model) -> tuple[dict, pd.DataFrame]:
        denoised = denoise_test_set(model, noisy_x_test)
        return reconstruction_metrics(x_test, denoised), score_reconstructions(denoised, x_test)

    return champion_metrics(champion, evaluate)


def plot_denoising(denoised: np.ndarray, noisy_x_test: np.ndarray, x_test: np.ndarray) -> plotting.Figure:
    """Rows: noisy input, denoised output, clean image."""
    return image_rows_figure({"noisy": noisy_x_test, "denoised": denoised, "clean": x_test})
