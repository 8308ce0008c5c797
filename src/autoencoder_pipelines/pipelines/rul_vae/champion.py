"""``rul_vae_retrain``'s part of the promotion stage: the champion scored on this run's
test engines through its own served model, and the challenger described for inference."""

from __future__ import annotations

import pandas as pd

from autoencoder_pipelines import plotting
from autoencoder_pipelines.data import cmapss
from autoencoder_pipelines.data.config import CMAPSSConfig
from autoencoder_pipelines.evaluation import rul_metrics
from autoencoder_pipelines.inference import attach_truth
from autoencoder_pipelines.pipelines.rul_vae.nodes import trust_metrics
from autoencoder_pipelines.plotting import message_figure, rul_per_engine_figure
from autoencoder_pipelines.promotion import lineage_summary
from autoencoder_pipelines.registry import RegisteredModel

HEALTH_MAP_POINTS = 2000  # training windows stored with a registered model, for inference maps


def evaluate_champion(
    champion: RegisteredModel | None, test: pd.DataFrame, test_rul: pd.DataFrame, data: CMAPSSConfig
) -> tuple[dict, pd.DataFrame]:
    """The champion's metrics and predictions on this run's evaluation engines (the test
    file's and the arriving engines held out: ``ingestion.evaluation_engines``).

    The champion scores the engines as its served model does (``serving.RULModel``: its
    own scaler and data settings); the truth
    is capped at this run's ``max_rul``, as for the challenger. Without a champion:
    ``{"version": None}`` and no predictions.
    """
    columns = ["unit_nr", "item", "n_cycles", "predicted_rul", "rul_spread", "z_1", "z_2", "true_rul", "true_rul_capped"]
    if champion is None:
        return {"version": None}, pd.DataFrame(columns=columns)
    from autoencoder_pipelines.serving import rul_model_of  # noqa: PLC0415 - MLflow's pyfunc is slow to import

    served = rul_model_of(champion)
    predictions = attach_truth(served.score(test, f"test engines ({data.subset})"), test_rul, data.max_rul)
    trusted = "rul_lower" in predictions and "ood" in predictions  # a champion registered before the calibration has neither
    predictions = predictions[columns + (["rul_lower", "rul_upper", "ood_score", "ood"] if trusted else [])]
    metrics = {
        "version": champion.version,
        **rul_metrics(predictions["true_rul_capped"], predictions["predicted_rul"]),
        **(trust_metrics(predictions, data.max_rul) if trusted else {}),
        "rul_spread_mean": float(predictions["rul_spread"].mean()),
        "rul_offset": float(served.model.config.rul_offset),
        "lineage": lineage_summary(champion.metadata.get("lineage")),
    }
    return metrics, predictions


def plot_champion_predictions(predictions: pd.DataFrame, metrics: dict) -> plotting.Figure:
    """Predicted vs true RUL per test engine for the champion (the challenger's is
    ``rul_vae.figure_rul_per_engine``)."""
    if metrics.get("version") is None:
        return message_figure("Champion: predicted vs true RUL", "No champion yet: this run's challenger is the first.")
    fig = rul_per_engine_figure(predictions)
    fig.axes[0].set_title(f"Champion (version {metrics['version']}): predicted vs true RUL per test engine")
    return fig


def describe_challenger(
    scaler: dict,
    train_latent: pd.DataFrame,
    test: pd.DataFrame,
    data: CMAPSSConfig,
    interval_calibration: dict,
    ood_detector: dict,
    drift_reference: dict,
    lineage: dict,
) -> dict:
    """What a registered model needs for inference besides its weights, checked as the
    served model's typed settings (``serving.RULSettings``): its fitted scaler, its data
    settings, a sample of its training health map, its interval calibration, its
    out-of-distribution detector, its drift reference and its lineage (what it was trained
    and evaluated on); and an example request (the first two test engines' logs, as a
    ``split`` table)."""
    from autoencoder_pipelines import serving  # noqa: PLC0415 - MLflow's pyfunc is slow to import

    step = max(1, len(train_latent) // HEALTH_MAP_POINTS)
    sample = train_latent.iloc[::step]
    settings = {
        "task": "rul_vae",
        "condition_scaler": scaler,
        "data": data.model_dump(mode="json"),
        "health_map": {
            "z_1": sample["z_1"].round(5).tolist(),
            "z_2": sample["z_2"].round(5).tolist(),
            cmapss.RUL_COLUMN: sample[cmapss.RUL_COLUMN].tolist(),
        },
        "intervals": interval_calibration,
        "ood": ood_detector,
        "drift_reference": drift_reference,
        "lineage": lineage,
    }
    example = serving.input_example(test, serving.settings_from(settings))
    return {**settings, "input_example": example.to_dict(orient="split", index=False)}
