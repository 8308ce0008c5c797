"""``rul_vae``'s served model: engine logs in, RUL per engine out."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from autoencoder_pipelines.data import cmapss, schemas
from autoencoder_pipelines.data.cmapss import CMAPSSValidationError
from autoencoder_pipelines.data.config import CMAPSSConfig
from autoencoder_pipelines.monitoring import (
    DriftReference,
    MahalanobisDetector,
    drift_report,
)
from autoencoder_pipelines.serving.base import ServedModel, ensure_finite
from autoencoder_pipelines.uncertainty import RULIntervals


class HealthMap(BaseModel):
    """A sample of the training windows' health-map positions and their RUL, drawn
    behind scored engines."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    z_1: list[float]
    z_2: list[float]
    rul: list[float] = Field(alias=cmapss.RUL_COLUMN)


class RULSettings(BaseModel):
    """What a ``rul_vae`` model needs besides its weights, stored with it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: Literal["rul_vae"] = "rul_vae"
    registered_model: str | None = Field(default=None, description="the registered model's name")
    version: str | None = Field(default=None, description="its version in the registry")
    data: CMAPSSConfig
    condition_scaler: dict[str, Any] = Field(description="the fitted ConditionScaler, as ConditionScaler.to_dict()")
    health_map: HealthMap
    intervals: RULIntervals | None = Field(default=None, description="the conformal calibration of its RUL intervals")
    ood: MahalanobisDetector | None = Field(default=None, description="its out-of-distribution detector")
    drift_reference: DriftReference | None = Field(default=None, description="its training engines' features, for drift reports")
    lineage: dict[str, Any] | None = Field(default=None, description="the partitions it was trained and evaluated on")
    metrics: dict[str, float] = Field(default_factory=dict, description="test metrics of the run that trained it")

    @property
    def required_columns(self) -> tuple[str, ...]:
        return (*cmapss.INDEX_COLUMNS, *cmapss.SETTING_COLUMNS, *self.data.sensor_columns)


class RULModel(ServedModel):
    """``rul_vae``: engine logs in the C-MAPSS layout (``unit_nr``, ``time_cycles``,
    ``setting_1..3`` and the model's sensors; any number of engines, each engine's
    cycles 1, 2, 3, ... in order) → one row per engine: its RUL, its calibrated interval
    (``rul_lower``, ``rul_upper``), the spread between an ensemble's members, the
    out-of-distribution score and flag (``ood_score``, ``ood``), its health-map position
    and the model version (docs/production.md says what each means). A model registered
    before intervals and flags answers without those four columns.

    The engines go through the model's own preprocessing (its condition scaler, smoothing
    and last window, padded for engines shorter than the window).
    """

    OUTPUTS: ClassVar[tuple[str, ...]] = (
        "unit_nr",
        "n_cycles",
        "predicted_rul",
        "rul_lower",
        "rul_upper",
        "rul_spread",
        "ood_score",
        "ood",
        "z_1",
        "z_2",
        "model",
        "model_version",
    )
    SETTINGS = RULSettings
    INVALID_INPUT = (CMAPSSValidationError,)

    def score(self, engines: pd.DataFrame, name: str) -> pd.DataFrame:
        """:meth:`predict` without MLflow's exception: ``name`` is what errors call ``engines``.

        Raises:
            CMAPSSValidationError: naming the column and the problem.
        """
        from autoencoder_pipelines.inference import score_engines  # noqa: PLC0415 - imports Keras

        settings = self.settings
        engines = schemas.validate_engine_log(engines, name, settings.required_columns)
        scored = score_engines(
            self.model, engines, settings.condition_scaler, settings.data, name, settings.intervals, settings.ood
        )
        answer = scored.assign(model=settings.registered_model or "", model_version=settings.version or "")
        return ensure_finite(answer[[c for c in self.OUTPUTS if c in answer.columns]], name)

    def drift(self, engines: pd.DataFrame, name: str) -> dict[str, Any]:
        """The batch's drift report against the model's training engines
        (``monitoring.drift_report``): the engines its detector flags against the rate it
        flags on validation; each engine's last cycle of scaled, smoothed sensors matched to
        its predicted RUL without the model's offset (``inference.matching_rul``).

        Raises:
            CMAPSSValidationError: the engines fail the model's checks.
            ValueError: the model carries no drift reference or detector (registered before drift reports).
        """
        from autoencoder_pipelines.inference import engine_features, last_cycle, matching_rul  # noqa: PLC0415
        from autoencoder_pipelines.models import predict_in_chunks  # noqa: PLC0415

        settings, reference = self.settings, self.drift_reference()
        engines = schemas.validate_engine_log(engines, name, settings.required_columns)
        windows, _ = engine_features(engines, settings.condition_scaler, settings.data, name)
        answers = matching_rul(predict_in_chunks(self.model, windows)["rul"], self.model.config.rul_offset)
        features = last_cycle(windows, settings.data.sensor_columns)
        flagged = settings.ood.flag(settings.ood.score_frame(features))
        report = drift_report(reference, features, flagged, settings.ood.false_flag_rate, answers)
        return {"model": settings.registered_model or "", "model_version": settings.version or "", **report}


def rul_model_of(champion) -> RULModel:
    """The served ``rul_vae`` model of a registered version (``registry.RegisteredModel``);
    for a version registered before models were served (a bare Keras model, its settings
    as metadata), the same served model built around it."""
    if champion.served is not None:
        return champion.served.unwrap_python_model()
    settings = RULSettings.model_validate(
        {**champion.metadata, "task": "rul_vae", "registered_model": champion.name, "version": champion.version}
    )
    model = RULModel()
    model.model, model.settings = champion.model, settings
    return model


def input_example(engines: pd.DataFrame, settings: RULSettings, n_engines: int = 2) -> pd.DataFrame:
    """The first ``n_engines`` engines of ``engines``, in the columns the model reads:
    what a request looks like."""
    first = np.sort(engines["unit_nr"].unique())[:n_engines]
    rows = engines[engines["unit_nr"].isin(first)]
    return rows[list(settings.required_columns)].reset_index(drop=True)
