"""Training and evaluation nodes of ``contractive_ae``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autoencoder_pipelines import models, plotting
from autoencoder_pipelines.evaluation import reconstruction_metrics, training_summary
from autoencoder_pipelines.models import predict_in_chunks
from autoencoder_pipelines.models.config import ContractiveAutoencoderConfig
from autoencoder_pipelines.pipelines.mnist.nodes import score_reconstructions
from autoencoder_pipelines.plotting import image_rows_figure
from autoencoder_pipelines.promotion import champion_metrics
from autoencoder_pipelines.registry import RegisteredModel
from autoencoder_pipelines.training import History, TrainingConfig, fit_configured_model


def train_contractive_ae(
    x_train: np.ndarray, x_val: np.ndarray, architecture: ContractiveAutoencoderConfig, training: TrainingConfig
) -> tuple[models.ContractiveAutoencoder, History]:
    """Fit the contractive autoencoder (reconstruction + lambda * ||J||_F^2)."""
    return fit_configured_model("contractive_autoencoder", architecture, x_train, x_train, x_val, x_val, training)


def train_plain_ae(
    x_train: np.ndarray, x_val: np.ndarray, architecture: ContractiveAutoencoderConfig, training: TrainingConfig
) -> tuple[models.ContractiveAutoencoder, History]:
    """The same autoencoder without the penalty (lambda = 0), the baseline of the comparison."""
    plain = architecture.model_copy(update={"contractive_weight": 0.0})
    return fit_configured_model("contractive_autoencoder", plain, x_train, x_train, x_val, x_val, training)


def jacobian_norms(model: models.ContractiveAutoencoder, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Frobenius norm of the encoder's Jacobian at every image, ``(n,)``."""
    from keras import ops  # noqa: PLC0415 - the deep-learning stack loads when a node runs

    from autoencoder_pipelines.models.losses import contractive_penalty  # noqa: PLC0415

    squared = [
        ops.convert_to_numpy(contractive_penalty(model.encoder, ops.convert_to_tensor(x[i : i + batch_size])))
        for i in range(0, len(x), batch_size)
    ]
    return np.sqrt(np.concatenate(squared)).astype(np.float64)


def model_metrics(model: models.ContractiveAutoencoder, x_test: np.ndarray) -> dict[str, float]:
    """Test MSE/PSNR and the mean Jacobian norm of one model."""
    return _model_metrics(model, x_test, predict_in_chunks(model, x_test, chunk=1000)["reconstruction"])


def _model_metrics(model: models.ContractiveAutoencoder, x_test: np.ndarray, reconstructions: np.ndarray) -> dict[str, float]:
    norms = jacobian_norms(model, x_test)
    return {
        **reconstruction_metrics(x_test, reconstructions),
        "jacobian_norm": float(norms.mean()),
        "jacobian_norm_squared": float(np.mean(norms**2)),
        "contractive_weight": model.config.contractive_weight,
    }


def evaluate_contractive_ae(
    model: models.ContractiveAutoencoder,
    plain_model: models.ContractiveAutoencoder,
    x_test: np.ndarray,
    history: History,
    plain_history: History,
    training: TrainingConfig,
) -> dict[str, dict[str, float]]:
    """Test MSE and mean Jacobian norm of the contractive model and of the plain one."""
    contractive = {**model_metrics(model, x_test), **training_summary(history, training.monitor)}
    plain = {**model_metrics(plain_model, x_test), **training_summary(plain_history, training.monitor)}
    return {
        "contractive": contractive,
        "plain": plain,
        "jacobian_norm_ratio": contractive["jacobian_norm"] / plain["jacobian_norm"],
    }


def score_test_images(model: models.ContractiveAutoencoder, x_test: np.ndarray) -> pd.DataFrame:
    """Each test image's reconstruction MSE by the contractive model (item ``test:<index>``;
    their mean is ``contractive.mse``)."""
    return score_reconstructions(predict_in_chunks(model, x_test, chunk=1000)["reconstruction"], x_test)


def evaluate_champion(champion: RegisteredModel | None, x_test: np.ndarray) -> tuple[dict, pd.DataFrame]:
    """The champion's test metrics, under ``contractive`` as the challenger's are
    (so ``promotion.metric: contractive.mse`` reads both), and its per-image scores."""

    def evaluate(model) -> tuple[dict, pd.DataFrame]:
        reconstructions = predict_in_chunks(model, x_test, chunk=1000)["reconstruction"]
        return {"contractive": _model_metrics(model, x_test, reconstructions)}, score_reconstructions(reconstructions, x_test)

    return champion_metrics(champion, evaluate)


def plot_contractive_reconstructions(
    model: models.ContractiveAutoencoder, plain_model: models.ContractiveAutoencoder, x_test: np.ndarray
) -> plotting.Figure:
    """Rows: input, contractive reconstruction, plain reconstruction."""
    x = x_test[:10]
    return image_rows_figure(
        {
            "input": x,
            "contractive": predict_in_chunks(model, x, chunk=1000)["reconstruction"],
            "plain": predict_in_chunks(plain_model, x, chunk=1000)["reconstruction"],
        }
    )
