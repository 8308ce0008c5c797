"""Nodes of the ``af_rvae`` promotion stage: the champion on this run's test patients,
the decision, and the challenger packaged for the registry."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from autoencoder_pipelines.data.config import AFSeriesConfig, PacemakerSimulationConfig
from autoencoder_pipelines.evaluation import classification_metrics
from autoencoder_pipelines.pipelines.common import predict_in_batches
from autoencoder_pipelines.plotting import confusion_matrix_figure, message_figure
from autoencoder_pipelines.promotion import numeric_metrics, registration
from autoencoder_pipelines.registry import RegisteredModel


def evaluate_champion(champion: RegisteredModel | None, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    """The champion's accuracy, macro-F1 and confusion matrix on this run's test patients
    (``{"version": None}`` without a champion)."""
    if champion is None:
        return {"version": None}
    expected = tuple(champion.model.config.input_shape)
    if tuple(x_test.shape[1:]) != expected:
        raise ValueError(
            f"The champion (version {champion.version}) takes series of shape {expected}, "
            f"this run's test series are {tuple(x_test.shape[1:])}: compare on the champion's series settings."
        )
    probabilities = predict_in_batches(champion.model, x_test)["probabilities"]
    return {"version": champion.version, **classification_metrics(probabilities, y_test)}


def package_challenger(
    model, metrics: dict, decision: dict, simulation: PacemakerSimulationConfig, series: AFSeriesConfig
) -> dict:
    """The challenger as the registry stores it: the model, the data settings it was
    trained on, its metrics and the decision."""
    metadata = {
        "simulation": simulation.model_dump(mode="json"),
        "series": series.model_dump(mode="json"),
        "metrics": numeric_metrics(metrics),
    }
    return registration(model, metadata, decision)


def plot_champion_confusion_matrix(champion_metrics: dict) -> Figure:
    """The champion's test confusion matrix (the challenger's is ``af_rvae_confusion_matrix``)."""
    if champion_metrics.get("version") is None:
        return message_figure("Champion: confusion matrix", "No champion yet: this run's challenger is the first.")
    fig = confusion_matrix_figure(np.asarray(champion_metrics["confusion_matrix"]))
    fig.axes[0].set_title(f"Champion (version {champion_metrics['version']}): test confusion matrix")
    return fig
