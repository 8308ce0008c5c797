"""``af_rvae_retrain``'s part of the promotion stage: the champion scored on this run's test
patients, and the challenger described for inference."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autoencoder_pipelines import plotting
from autoencoder_pipelines.data import pacemaker
from autoencoder_pipelines.data.config import AFSeriesConfig, PacemakerSimulationConfig
from autoencoder_pipelines.inference import diagnose_series
from autoencoder_pipelines.pipelines.af_rvae.nodes import diagnosis_metrics, score_test_patients
from autoencoder_pipelines.plotting import confusion_matrix_figure, message_figure
from autoencoder_pipelines.promotion import champion_metrics
from autoencoder_pipelines.registry import RegisteredModel


def evaluate_champion(champion: RegisteredModel | None, x_test: np.ndarray, y_test: np.ndarray) -> tuple[dict, pd.DataFrame]:
    """The champion's accuracy, macro-F1 and confusion matrix on this run's test patients
    (``{"version": None}`` without a champion), and each patient's correctness.

    Raises:
        ValueError: the champion takes series of another shape than this run's.
    """
    if champion is not None and tuple(champion.model.config.input_shape) != tuple(x_test.shape[1:]):
        raise ValueError(
            f"The champion (version {champion.version}) takes series of shape {tuple(champion.model.config.input_shape)}, "
            f"this run's test series are {tuple(x_test.shape[1:])}: compare on the champion's series settings."
        )

    def evaluate(model) -> tuple[dict, pd.DataFrame]:
        answer = diagnose_series(model, x_test, None, None)
        metrics = diagnosis_metrics(answer["probabilities"], answer["probability_spread"], y_test)
        return metrics, score_test_patients(answer["probabilities"], y_test)

    return champion_metrics(champion, evaluate)


def plot_champion_confusion_matrix(metrics: dict) -> plotting.Figure:
    """The champion's test confusion matrix (the challenger's is ``af_rvae.figure_confusion_matrix``)."""
    if metrics.get("version") is None:
        return message_figure("Champion: confusion matrix", "No champion yet: this run's challenger is the first.")
    return confusion_matrix_figure(
        np.asarray(metrics["confusion_matrix"]),
        label_name="class",
        title=f"Champion (version {metrics['version']}): test confusion matrix",
    )


def describe_challenger(
    simulation: PacemakerSimulationConfig,
    series: AFSeriesConfig,
    patients: pd.DataFrame,
    episodes: pd.DataFrame,
    probability_calibration: dict,
    ood_detector: dict,
    drift_reference: dict,
    lineage: dict,
) -> dict:
    """What a registered model carries besides its weights, checked as the served model's
    typed settings (``serving.AFSettings``): the simulation and series settings its inputs
    come from, its probability calibration, out-of-distribution detector and drift
    reference; and an example request (the episode logs of the first patient of the first
    two classes, as a ``split`` table)."""
    from autoencoder_pipelines import serving  # noqa: PLC0415 - MLflow's pyfunc is slow to import

    settings = serving.settings_from(
        {
            "task": "af_rvae",
            "simulation": simulation.model_dump(mode="json"),
            "series": series.model_dump(mode="json"),
            "calibration": probability_calibration,
            "ood": ood_detector,
            "drift_reference": drift_reference,
            "lineage": lineage,
        }
    )
    chosen = patients.groupby("class")["patient"].first().to_numpy()[:2]
    rows = episodes[episodes["patient"].isin(chosen)]
    without = [p for p in chosen if p not in set(rows["patient"])]  # a patient without episodes: one empty row
    rows = pd.concat([rows, pd.DataFrame({"patient": without, "start": np.nan, "end": np.nan})], ignore_index=True)
    example = rows.assign(record_days=simulation.days)[list(pacemaker.EPISODE_LOG_COLUMNS)]
    return {
        **settings.model_dump(mode="json", exclude_none=True),
        "input_example": example.to_dict(orient="split", index=False),
    }
