"""Training and evaluation nodes of ``contractive_ae``."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops
from matplotlib.figure import Figure

from autoencoder_pipelines.evaluation import reconstruction_metrics, training_summary
from autoencoder_pipelines.models import ContractiveAutoencoder, ContractiveAutoencoderConfig, TrainingConfig
from autoencoder_pipelines.models.losses import contractive_penalty
from autoencoder_pipelines.pipelines.common import fit_configured_model, predict_in_batches
from autoencoder_pipelines.plotting import image_rows_figure


def train_contractive_ae(
    x_train: np.ndarray, x_val: np.ndarray, architecture: ContractiveAutoencoderConfig, training: TrainingConfig
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Fit the contractive autoencoder (reconstruction + lambda * ||J||_F^2)."""
    return fit_configured_model(ContractiveAutoencoder, architecture, x_train, x_train, x_val, x_val, training)


def train_plain_ae(
    x_train: np.ndarray, x_val: np.ndarray, architecture: ContractiveAutoencoderConfig, training: TrainingConfig
) -> tuple[keras.Model, dict[str, list[float]]]:
    """The same autoencoder without the penalty (lambda = 0), the baseline of the comparison."""
    plain = architecture.model_copy(update={"contractive_weight": 0.0})
    return fit_configured_model(ContractiveAutoencoder, plain, x_train, x_train, x_val, x_val, training)


def jacobian_norms(model: ContractiveAutoencoder, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Frobenius norm of the encoder's Jacobian at every image, ``(n,)``."""
    squared = [
        ops.convert_to_numpy(contractive_penalty(model.encoder, ops.convert_to_tensor(x[i : i + batch_size])))
        for i in range(0, len(x), batch_size)
    ]
    return np.sqrt(np.concatenate(squared)).astype(np.float64)


def _evaluate(model: ContractiveAutoencoder, x_test: np.ndarray, history: dict[str, list[float]]) -> dict[str, float]:
    norms = jacobian_norms(model, x_test)
    reconstructions = predict_in_batches(model, x_test)["reconstruction"]
    return {
        **reconstruction_metrics(x_test, reconstructions),
        "jacobian_norm": float(norms.mean()),
        "jacobian_norm_squared": float(np.mean(norms**2)),
        "contractive_weight": model.config.contractive_weight,
        **training_summary(history),
    }


def evaluate_contractive_ae(
    model: ContractiveAutoencoder,
    plain_model: ContractiveAutoencoder,
    x_test: np.ndarray,
    history: dict[str, list[float]],
    plain_history: dict[str, list[float]],
) -> dict[str, dict[str, float]]:
    """Test MSE and mean Jacobian norm of the contractive model and of the plain one."""
    contractive, plain = _evaluate(model, x_test, history), _evaluate(plain_model, x_test, plain_history)
    return {
        "contractive": contractive,
        "plain": plain,
        "jacobian_norm_ratio": contractive["jacobian_norm"] / plain["jacobian_norm"],
    }


def plot_contractive_reconstructions(model: ContractiveAutoencoder, plain_model: ContractiveAutoencoder, x_test: np.ndarray) -> Figure:
    """Rows: input, contractive reconstruction, plain reconstruction."""
    x = x_test[:10]
    return image_rows_figure(
        {
            "input": x,
            "contractive": predict_in_batches(model, x)["reconstruction"],
            "plain": predict_in_batches(plain_model, x)["reconstruction"],
        }
    )
