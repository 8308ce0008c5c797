"""Nodes of the ``af_rvae`` pipeline: simulation, series, split, training, evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from autoencoder_pipelines import models, plotting
from autoencoder_pipelines.data import pacemaker
from autoencoder_pipelines.data.config import AFSeriesConfig, PacemakerSimulationConfig
from autoencoder_pipelines.evaluation import classification_metrics, training_summary
from autoencoder_pipelines.inference import diagnose_series
from autoencoder_pipelines.models.config import RecurrentVAEClassifierConfig
from autoencoder_pipelines.monitoring import (
    DriftReference,
    ThresholdDetector,
    drift_report,
)
from autoencoder_pipelines.plotting import (
    confusion_matrix_figure,
    latent_scatter_figure,
    reliability_figure,
    series_reconstruction_figure,
)
from autoencoder_pipelines.promotion import indexed_scores
from autoencoder_pipelines.training import History, TrainingConfig, fit_configured_model
from autoencoder_pipelines.uncertainty import (
    TemperatureScaling,
    expected_calibration_error,
    reliability_table,
)

# --- ingestion: simulate the pacemaker logs ------------------------------------------


def simulate_pacemaker_logs(simulation: PacemakerSimulationConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Patients (``patient``, ``class``, ``beta_na``, ``alpha``) and their AF episodes
    (``patient``, ``start``, ``end`` in days), ``patients_per_class`` per class, seeded."""
    n = simulation.patients_per_class
    streams = np.random.SeedSequence(simulation.seed).spawn(len(simulation.classes))
    patients, episodes = [], []
    for label, ((beta_na, alpha), stream) in enumerate(zip(simulation.classes, streams)):
        log = pacemaker.simulate_episodes(n, beta_na, alpha, simulation.days, np.random.default_rng(stream))
        log["patient"] += label * n
        episodes.append(log)
        patients.append(
            pd.DataFrame({"patient": np.arange(label * n, (label + 1) * n), "class": label, "beta_na": beta_na, "alpha": alpha})
        )
    return pd.concat(patients, ignore_index=True), pd.concat(episodes, ignore_index=True)


# --- preprocessing ----------------------------------------------------------------


def make_burden_series(
    patients: pd.DataFrame, episodes: pd.DataFrame, simulation: PacemakerSimulationConfig, series: AFSeriesConfig
) -> np.ndarray:
    """Daily AF burden -> Gaussian smoothing -> block means: ``(patients, days // block_days)``.

    Done class by class, so the daily ``(patients, days)`` grid of only one class is in memory.
    """
    matrix = pacemaker.smoothing_matrix(simulation.days, series.fwhm_days, series.block_days).astype(np.float32)
    out = np.empty((len(patients), matrix.shape[1]), np.float32)
    ids = patients["patient"].to_numpy()
    for _label, members in patients.groupby("class").groups.items():
        rows = ids[members]
        first = int(rows.min())
        log = episodes[(episodes["patient"] >= first) & (episodes["patient"] <= rows.max())]
        out[rows] = pacemaker.burden_series(log.assign(patient=log["patient"] - first), len(rows), simulation.days, matrix)
    return out


def split_patients(
    burden_series: np.ndarray,
    patients: pd.DataFrame,
    series: AFSeriesConfig,
    arrived_series: np.ndarray,
    arrived_patients: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seeded split of the simulated patients, stratified by class, into training,
    validation and test series, shaped ``(n, steps, 1)`` for the recurrent model, with their
    classes; the patients that arrived follow them, in the test set if the seeded hash held
    them out, else in the training set."""
    from sklearn.model_selection import train_test_split  # noqa: PLC0415 - slow to import

    labels = patients["class"].to_numpy()
    index = np.arange(len(labels))
    rest, test = train_test_split(index, test_size=series.test_fraction, random_state=series.split_seed, stratify=labels)
    val_share = series.validation_fraction / (1.0 - series.test_fraction)
    train, val = train_test_split(rest, test_size=val_share, random_state=series.split_seed, stratify=labels[rest])
    held = arrived_patients["holdout"].to_numpy(bool)
    arrived_labels = arrived_patients["class"].to_numpy(np.int64)
    extra = {"train": ~held, "val": np.zeros_like(held), "test": held}
    out = []
    for name, part in (("train", np.sort(train)), ("val", np.sort(val)), ("test", np.sort(test))):
        x = np.concatenate([burden_series[part], arrived_series[extra[name]].astype(burden_series.dtype)])
        out += [x[..., np.newaxis], np.concatenate([labels[part], arrived_labels[extra[name]]]).astype(np.int64)]
    return tuple(out)


# --- training and evaluation --------------------------------------------------------


def train_af_rvae(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    architecture: RecurrentVAEClassifierConfig,
    training: TrainingConfig,
) -> tuple[models.RecurrentVAEClassifier, History]:
    """Fit the recurrent VAE and its classifier jointly."""
    return fit_configured_model("recurrent_vae_classifier", architecture, x_train, y_train, x_val, y_val, training)


# --- evaluation -------------------------------------------------------------------------------


def diagnose_test_patients(
    model: models.RecurrentVAEClassifier | models.Ensemble, x_test: np.ndarray, probability_calibration: dict, ood_detector: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Map positions (latent means; an ensemble's lead member's), calibrated class
    probabilities, the raw ones, their spread between ensemble members (zeros for one
    model), reconstructions and out-of-distribution scores of the test patients."""
    answer = diagnose_series(
        model,
        x_test,
        TemperatureScaling.model_validate(probability_calibration),
        ThresholdDetector.model_validate(ood_detector),
    )
    return (
        answer["z_mean"],
        answer["probabilities"],
        answer["raw_probabilities"],
        answer["probability_spread"],
        answer["reconstruction"],
        answer["ood_score"],
    )


def diagnosis_metrics(probabilities: np.ndarray, spread: np.ndarray, y_test: np.ndarray) -> dict:
    """Accuracy, macro-F1, per-class report and confusion matrix, and how far ensemble
    members disagree: the mean spread of the predicted class's probability."""
    predicted = np.asarray(probabilities).argmax(axis=1)
    return {
        **classification_metrics(probabilities, y_test),
        "probability_spread_mean": float(np.mean(np.asarray(spread)[np.arange(len(predicted)), predicted])),
    }


def evaluate_af_rvae(
    probabilities: np.ndarray,
    raw_probabilities: np.ndarray,
    spread: np.ndarray,
    ood_scores: np.ndarray,
    y_test: np.ndarray,
    history: History,
    ood_detector: dict,
    training: TrainingConfig,
) -> dict:
    """The test patients' :func:`diagnosis_metrics` (calibrated probabilities), their
    expected calibration error before and after calibration, the share flagged out of
    distribution, and the training's summary (the epoch kept by ``training.monitor``)."""
    return {
        **diagnosis_metrics(probabilities, spread, y_test),
        "ece_before_calibration": expected_calibration_error(raw_probabilities, y_test),
        "ece": expected_calibration_error(probabilities, y_test),
        "ood_share": float(np.mean(ThresholdDetector.model_validate(ood_detector).flag(ood_scores))),
        **training_summary(history, training.monitor),
    }


def score_test_patients(probabilities: np.ndarray, y_test: np.ndarray) -> pd.DataFrame:
    """Each test patient's correctness, 1 or 0 (item ``test:<index>``): what the
    promotion's paired test resamples (their mean is the accuracy)."""
    return indexed_scores(np.asarray(probabilities).argmax(axis=1) == np.asarray(y_test))


def plot_reliability_diagram(raw_probabilities: np.ndarray, probabilities: np.ndarray, y_test: np.ndarray) -> plotting.Figure:
    """Confidence against accuracy of the test patients, before and after calibration."""
    return reliability_figure(
        {
            "before calibration": reliability_table(raw_probabilities, y_test),
            "after calibration": reliability_table(probabilities, y_test),
        },
        {
            "before calibration": expected_calibration_error(raw_probabilities, y_test),
            "after calibration": expected_calibration_error(probabilities, y_test),
        },
    )


def report_test_drift(
    x_test: np.ndarray, probabilities: np.ndarray, ood_scores: np.ndarray, drift_reference: dict, ood_detector: dict
) -> dict:
    """The test patients against the model's training patients, as any diagnosed batch
    (``monitoring.drift_report``): the patients its detector flags against the rate it
    flags on validation; each feature matched to the predicted class."""
    detector = ThresholdDetector.model_validate(ood_detector)
    return drift_report(
        DriftReference.model_validate(drift_reference),
        pacemaker.record_tenths(x_test),
        detector.flag(ood_scores),
        detector.false_flag_rate,
        np.asarray(probabilities).argmax(axis=1),
    )


class BaselineConfig(BaseModel):
    """The gradient-boosting baseline the recurrent model is compared with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_iter: int = Field(gt=0, description="boosting iterations of HistGradientBoostingClassifier")
    seed: int = Field(ge=0)


def evaluate_baseline(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, baseline: BaselineConfig
) -> dict:
    """scikit-learn's ``HistGradientBoostingClassifier`` on the raw burden points of every
    series (no latent, no recurrence), trained on the training patients (its early
    stopping off: a fixed number of iterations), scored on the test patients: what the
    recurrent model's accuracy should be read against."""
    from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: PLC0415

    classifier = HistGradientBoostingClassifier(max_iter=baseline.max_iter, early_stopping=False, random_state=baseline.seed)
    classifier.fit(x_train.reshape(len(x_train), -1), y_train)
    probabilities = classifier.predict_proba(x_test.reshape(len(x_test), -1))
    full = np.zeros((len(x_test), int(max(y_train.max(), y_test.max())) + 1))
    full[:, classifier.classes_] = probabilities
    return {"model": f"HistGradientBoostingClassifier(max_iter={baseline.max_iter})", **classification_metrics(full, y_test)}


def plot_diagnosis_map(z_test: np.ndarray, y_test: np.ndarray, simulation: PacemakerSimulationConfig) -> plotting.Figure:
    """The 2-D latent map of the test patients coloured by class: the visual diagnosis."""
    return latent_scatter_figure(
        z_test, y_test, "AF progression map (test patients)", n_classes=len(simulation.classes), label_name="class"
    )


def plot_confusion_matrix(metrics: dict) -> plotting.Figure:
    """The test confusion matrix."""
    return confusion_matrix_figure(np.asarray(metrics["confusion_matrix"]), label_name="class")


def plot_reconstructions(
    x_test: np.ndarray, reconstructions: np.ndarray, y_test: np.ndarray, series: AFSeriesConfig
) -> plotting.Figure:
    """One test patient per class: the series and its reconstruction."""
    picks = [int(np.flatnonzero(y_test == c)[0]) for c in np.unique(y_test)]
    return series_reconstruction_figure(x_test[picks], reconstructions[picks], y_test[picks], series.block_days)
