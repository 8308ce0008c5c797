"""Nodes of ``af_rvae``'s calibration stage: how far the trained model's diagnoses can be
trusted, fitted once the model is trained, registered with it (``serving.AFSettings``)."""

from __future__ import annotations

import numpy as np

from autoencoder_pipelines import models
from autoencoder_pipelines.data import pacemaker
from autoencoder_pipelines.data.config import AFSeriesConfig
from autoencoder_pipelines.inference import diagnose_series
from autoencoder_pipelines.monitoring import (
    DetectorConfig,
    DriftConfig,
    fit_threshold,
    reference_sample,
)
from autoencoder_pipelines.uncertainty import fit_temperature


def calibrate_probabilities(model: models.RecurrentVAEClassifier | models.Ensemble, x_val: np.ndarray, y_val: np.ndarray) -> dict:
    """Temperature scaling of the class probabilities (``uncertainty.TemperatureScaling``),
    fitted on the validation patients, with their expected calibration error before and after."""
    return fit_temperature(diagnose_series(model, x_val, None, None)["raw_probabilities"], y_val).model_dump()


def fit_ood_detector(model: models.RecurrentVAEClassifier | models.Ensemble, x_val: np.ndarray, ood: DetectorConfig) -> dict:
    """The out-of-distribution detector: a patient's series reconstruction error (the
    model's own decoder, trained on the training patients) above the validation patients'
    quantile at ``false_flag_rate``."""
    scores = diagnose_series(model, x_val, None, None)["ood_score"]
    return fit_threshold("reconstruction_mse", scores, ood).model_dump()


def sample_drift_reference(x_train: np.ndarray, y_train: np.ndarray, drift: DriftConfig, series: AFSeriesConfig) -> dict:
    """A seeded sample of the training patients' mean AF burden over each tenth of the
    record with their class, and the drift rule: what each diagnosed batch is compared with."""
    return reference_sample(pacemaker.record_tenths(x_train), drift, y_train, seed=series.split_seed).model_dump()
