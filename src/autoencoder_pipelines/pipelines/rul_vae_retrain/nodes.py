"""Nodes of the ``rul_vae`` promotion stage: the champion scored on the run's test
engines, the decision, and the challenger packaged for the registry."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from autoencoder_pipelines.data.cmapss import RUL_COLUMN
from autoencoder_pipelines.data.config import CMAPSSConfig
from autoencoder_pipelines.pipelines.rul_vae.nodes import rul_metrics, score_engines
from autoencoder_pipelines.plotting import message_figure, rul_per_engine_figure
from autoencoder_pipelines.promotion import numeric_metrics, registration
from autoencoder_pipelines.registry import RegisteredModel

HEALTH_MAP_POINTS = 2000  # training windows stored with a registered model, for inference maps


def evaluate_champion(
    champion: RegisteredModel | None, test: pd.DataFrame, test_rul: pd.DataFrame, data: CMAPSSConfig
) -> tuple[dict, pd.DataFrame]:
    """The champion's metrics and predictions on this run's test engines.

    The champion scores the engines through its own scaler and data settings; the truth
    is capped at this run's ``max_rul``, as for the challenger. Without a champion:
    ``{"version": None}`` and no predictions.
    """
    columns = ["unit_nr", "n_cycles", "predicted_rul", "z_1", "z_2", "true_rul", "true_rul_capped"]
    if champion is None:
        return {"version": None}, pd.DataFrame(columns=columns)
    champion_data = CMAPSSConfig(**champion.metadata["data"])
    scored = score_engines(
        champion.model, test, champion.metadata["condition_scaler"], champion_data, f"test engines ({data.subset})"
    )
    truth = test_rul.set_index("unit_nr")[RUL_COLUMN].loc[scored["unit_nr"]].to_numpy(np.float64)
    predictions = scored.assign(true_rul=truth, true_rul_capped=np.minimum(truth, data.max_rul))[columns]
    return {"version": champion.version, **rul_metrics(predictions)}, predictions


def package_challenger(
    model, scaler: dict, train_latent: pd.DataFrame, metrics: dict, decision: dict, data: CMAPSSConfig
) -> dict:
    """The challenger as the registry stores it: the model plus what inference needs
    (scaler, data settings, a sample of the training health map) and the decision."""
    step = max(1, len(train_latent) // HEALTH_MAP_POINTS)
    sample = train_latent.iloc[::step]
    metadata = {
        "condition_scaler": scaler,
        "data": data.model_dump(mode="json"),
        "metrics": numeric_metrics(metrics),
        "health_map": {
            "z_1": sample["z_1"].round(5).tolist(),
            "z_2": sample["z_2"].round(5).tolist(),
            RUL_COLUMN: sample[RUL_COLUMN].tolist(),
        },
    }
    return registration(model, metadata, decision)


def plot_champion_predictions(predictions: pd.DataFrame, champion_metrics: dict) -> Figure:
    """Predicted vs true RUL per test engine for the champion (the challenger's is the
    ``rul_vae`` evaluation figure)."""
    if champion_metrics.get("version") is None:
        return message_figure("Champion: predicted vs true RUL", "No champion yet: this run's challenger is the first.")
    fig = rul_per_engine_figure(predictions)
    fig.axes[0].set_title(f"Champion (version {champion_metrics['version']}): predicted vs true RUL per test engine")
    return fig
