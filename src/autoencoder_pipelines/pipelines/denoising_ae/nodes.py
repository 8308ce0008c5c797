"""Training and evaluation nodes of ``denoising_ae``."""

from __future__ import annotations

import keras
import numpy as np
from matplotlib.figure import Figure

from autoencoder_pipelines.evaluation import reconstruction_metrics, training_summary
from autoencoder_pipelines.models import Autoencoder, AutoencoderConfig, TrainingConfig
from autoencoder_pipelines.pipelines.common import fit_configured_model, predict_in_batches
from autoencoder_pipelines.plotting import image_rows_figure


def train_denoising_ae(
    noisy_x_train: np.ndarray,
    x_train: np.ndarray,
    noisy_x_val: np.ndarray,
    x_val: np.ndarray,
    architecture: AutoencoderConfig,
    training: TrainingConfig,
) -> tuple[keras.Model, dict[str, list[float]]]:
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
    return fit_configured_model(Autoencoder, architecture, noisy_x_train, targets, noisy_x_val, x_val, training)


def denoise_test_set(model: Autoencoder, noisy_x_test: np.ndarray) -> np.ndarray:
    """The model's output for every noisy test image."""
    return predict_in_batches(model, noisy_x_test)["reconstruction"]


def evaluate_denoising(
    denoised: np.ndarray, noisy_x_test: np.ndarray, x_test: np.ndarray, history: dict[str, list[float]]
) -> dict[str, float]:
    """MSE and PSNR against the clean images, for the output and for the noisy input itself."""
    return {
        **reconstruction_metrics(x_test, denoised),
        **reconstruction_metrics(x_test, noisy_x_test, prefix="noisy_input_"),
        **training_summary(history),
    }


def plot_denoising(denoised: np.ndarray, noisy_x_test: np.ndarray, x_test: np.ndarray) -> Figure:
    """Rows: noisy input, denoised output, clean image."""
    return image_rows_figure({"noisy": noisy_x_test, "denoised": denoised, "clean": x_test})
