"""Nodes of ``rul_inference``: read and check the engines, score them with the champion,
and place them on the champion's health map."""

from __future__ import annotations

from pathlib import PurePosixPath

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from autoencoder_pipelines import plotting
from autoencoder_pipelines.data import cmapss_files
from autoencoder_pipelines.plotting import health_map_figure
from autoencoder_pipelines.registry import RegisteredModel


class InferenceConfig(BaseModel):
    """``params:rul_inference``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    engines_file: str = Field(min_length=1, description="the engines to score (also the catalog's path)")

    @property
    def file_name(self) -> str:
        """The engines file's name, as errors quote it."""
        return PurePosixPath(self.engines_file).name


class NoChampionError(RuntimeError):
    """The registry has no champion to score with."""


def _require(champion: RegisteredModel | None) -> RegisteredModel:
    if champion is None:
        raise NoChampionError(
            "No champion in the model registry to score with: run `kedro run --pipeline=rul_vae_retrain` "
            "first (the first retraining registers one)."
        )
    return champion


def read_engines(raw: bytes, inference: InferenceConfig) -> pd.DataFrame:
    """Parse the engines file (NASA layout, or a table with a header); the catalog checks
    the table against the engine logs' schema when it is saved
    (``schemas.EngineLogValidator``), naming the file, row, column and check.

    Raises:
        CMAPSSValidationError: the file is empty or not a table of the C-MAPSS layout.
    """
    return cmapss_files.read_engine_file(raw, inference.file_name)


def score_new_engines(champion: RegisteredModel | None, engines: pd.DataFrame, inference: InferenceConfig) -> pd.DataFrame:
    """Predicted RUL, its spread between ensemble members and health-map position of
    every engine, with the model and version used: the champion's served model
    (``serving.RULModel``) answers, as ``mlflow models serve`` would.

    Raises:
        NoChampionError: the registry has no champion.
        CMAPSSValidationError: the engines lack a column the champion uses, or fail its
            checks (named, with the file).
    """
    return _served(champion).score(engines, inference.file_name)


def _served(champion: RegisteredModel | None):
    from autoencoder_pipelines.serving import rul_model_of  # noqa: PLC0415 - MLflow's pyfunc is slow to import

    return rul_model_of(_require(champion))


def report_batch_drift(champion: RegisteredModel | None, engines: pd.DataFrame, inference: InferenceConfig) -> dict:
    """The batch against the champion's training engines: per sensor the KS test and the
    normed Wasserstein distance, and the batch's verdict (``drift`` recommends retraining).

    Raises:
        NoChampionError: the registry has no champion.
        ValueError: the champion carries no drift reference or detector (registered before drift reports).
    """
    return _served(champion).drift(engines, inference.file_name)


def plot_engines_on_health_map(predictions: pd.DataFrame, champion: RegisteredModel | None) -> plotting.Figure:
    """The scored engines on the champion's health map (a sample of its training windows)."""
    champion = _require(champion)
    settings = _served(champion).settings
    background = pd.DataFrame(settings.health_map.model_dump(by_alias=True))
    return health_map_figure(
        background,
        predictions,
        settings.data.max_rul,
        column="predicted_rul",
        title=f"scored engines, predicted RUL ({champion.name} v{champion.version})",
    )
