"""``af_rvae``'s served model: pacemaker episode logs in, a diagnosis per patient out."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from autoencoder_pipelines.data import pacemaker, schemas
from autoencoder_pipelines.data.config import AFSeriesConfig, PacemakerSimulationConfig
from autoencoder_pipelines.data.pacemaker import PacemakerValidationError
from autoencoder_pipelines.monitoring import (
    DriftReference,
    ThresholdDetector,
    drift_report,
)
from autoencoder_pipelines.serving.base import ServedModel, ensure_finite
from autoencoder_pipelines.uncertainty import TemperatureScaling


class AFSettings(BaseModel):
    """What an ``af_rvae`` model needs besides its weights, stored with it: the settings
    of the simulation (the record length, the classes) and of the series, its probability
    calibration, out-of-distribution detector and drift reference."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: Literal["af_rvae"] = "af_rvae"
    registered_model: str | None = Field(default=None, description="the registered model's name")
    version: str | None = Field(default=None, description="its version in the registry")
    simulation: PacemakerSimulationConfig
    series: AFSeriesConfig
    calibration: TemperatureScaling | None = Field(default=None, description="its probabilities' temperature")
    ood: ThresholdDetector | None = Field(default=None, description="its out-of-distribution detector")
    drift_reference: DriftReference | None = Field(default=None, description="its training patients' features, for drift reports")
    lineage: dict[str, Any] | None = Field(default=None, description="the partitions it was trained and evaluated on")
    metrics: dict[str, float] = Field(default_factory=dict, description="test metrics of the run that trained it")


class AFModel(ServedModel):
    """``af_rvae``: pacemaker episode logs, one row per AF episode (``patient``, ``start``
    and ``end`` in days since the record began, ``record_days``; a patient without episodes
    is one row with ``start`` and ``end`` empty) → one row per patient: ``patient``,
    ``predicted_class``, ``probability_<k>`` for each class ``k`` (the simulation's
    ``(beta_na, alpha)`` pairs, in the order of ``AFSettings.simulation.classes``;
    calibrated on validation patients when the model has a temperature),
    ``probability_spread`` (the spread between an ensemble's members of the predicted
    class's probability, 0 for one model), ``ood_score`` and ``ood`` (the series'
    reconstruction error against the model's threshold; not for models registered before
    the flag), ``z_1``, ``z_2`` (the diagnosis map; an ensemble's lead member's),
    ``model``, ``model_version``.

    The logs go through the model's own preprocessing: daily AF burden, Gaussian smoothing
    and block means with its series settings. Records must be as long as the model's.
    """

    SETTINGS = AFSettings
    INVALID_INPUT = (PacemakerValidationError,)
    _smoothing: np.ndarray | None = None  # made on first use, once per loaded model

    def series(self, logs: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The patients' ids and burden series ``(n, steps, 1)``, from checked logs.

        Raises:
            PacemakerValidationError: naming the row, column and check.
        """
        days = self.settings.simulation.days
        episodes, ids = pacemaker.episodes_by_patient(schemas.validate_episode_log(logs, name, days))
        return ids, pacemaker.burden_series(episodes, len(ids), days, self.smoothing(days))[..., np.newaxis]

    def drift(self, logs: pd.DataFrame, name: str) -> dict[str, Any]:
        """The batch's drift report against the model's training patients (each patient's
        mean burden over each tenth of the record, matched to its predicted class).

        Raises:
            PacemakerValidationError: the logs fail the model's checks.
            ValueError: the model carries no drift reference or detector (registered before drift reports).
        """
        from autoencoder_pipelines.inference import diagnose_series  # noqa: PLC0415 - imports Keras

        reference = self.drift_reference()
        _, series = self.series(logs, name)
        settings = self.settings
        answer = diagnose_series(self.model, series, None, settings.ood)
        answers = answer["raw_probabilities"].argmax(axis=1)
        report = drift_report(reference, pacemaker.record_tenths(series), answer["ood"], settings.ood.false_flag_rate, answers)
        return {"model": settings.registered_model or "", "model_version": settings.version or "", **report}

    def score(self, logs: pd.DataFrame, name: str) -> pd.DataFrame:
        from autoencoder_pipelines.inference import diagnose_series, latent_columns  # noqa: PLC0415

        settings = self.settings
        ids, series = self.series(logs, name)
        answer = diagnose_series(self.model, series, settings.calibration, settings.ood)
        probabilities = answer["probabilities"]
        predicted = np.argmax(probabilities, axis=1)
        z = answer["z_mean"]
        columns = {
            "patient": ids,
            "predicted_class": predicted.astype(np.int64),
            **{f"probability_{k}": probabilities[:, k] for k in range(probabilities.shape[1])},
            "probability_spread": answer["probability_spread"][np.arange(len(ids)), predicted],
        }
        if settings.ood is not None:
            columns |= {"ood_score": answer["ood_score"], "ood": answer["ood"]}
        columns |= {
            **latent_columns(z),
            "model": settings.registered_model or "",
            "model_version": settings.version or "",
        }
        return ensure_finite(pd.DataFrame(columns), name)

    def smoothing(self, days: int) -> np.ndarray:
        """The series settings' smoothing matrix (float32), made once per loaded model."""
        if self._smoothing is None:
            series = self.settings.series
            self._smoothing = pacemaker.smoothing_matrix(days, series.fwhm_days, series.block_days).astype(np.float32)
        return self._smoothing
