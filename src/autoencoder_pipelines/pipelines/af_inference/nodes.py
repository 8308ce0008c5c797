"""Nodes of ``af_inference``: read the episode logs, diagnose each patient with the
champion's served model, and place the patients on its diagnosis map."""

from __future__ import annotations

import io
from pathlib import PurePosixPath

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from autoencoder_pipelines import plotting
from autoencoder_pipelines.data.pacemaker import PacemakerValidationError
from autoencoder_pipelines.plotting import latent_scatter_figure
from autoencoder_pipelines.registry import RegisteredModel


class AFInferenceConfig(BaseModel):
    """``params:af_inference``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    episodes_file: str = Field(min_length=1, description="the episode logs to diagnose (also the catalog's path)")

    @property
    def file_name(self) -> str:
        """The file's name, as errors quote it."""
        return PurePosixPath(self.episodes_file).name


class NoChampionError(RuntimeError):
    """The registry has no champion to diagnose with."""


def _require(champion: RegisteredModel | None) -> RegisteredModel:
    if champion is None:
        raise NoChampionError(
            "No af_rvae champion in the model registry to diagnose with: run `kedro run --pipeline=af_rvae_retrain` "
            "first (the first retraining registers one)."
        )
    if champion.served is None:
        raise NoChampionError(
            f"{champion.name} version {champion.version} was registered as a bare Keras model, before models were "
            "served; run `kedro run --pipeline=af_rvae_retrain` to register a served one."
        )
    return champion


def read_episode_logs(raw: bytes, inference: AFInferenceConfig) -> pd.DataFrame:
    """Parse the episode logs (CSV with a header); their content is checked by the model.

    Raises:
        PacemakerValidationError: the file is not a CSV table (named).
    """
    try:
        return pd.read_csv(io.BytesIO(raw))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise PacemakerValidationError(f"{inference.file_name}: cannot read the CSV table ({error}).") from None


def diagnose_patients(champion: RegisteredModel | None, logs: pd.DataFrame, inference: AFInferenceConfig) -> pd.DataFrame:
    """Class, class probabilities and diagnosis-map position of every patient, with the
    model and version used: the champion's served model (``serving.AFModel``) answers,
    as ``mlflow models serve`` would.

    Raises:
        NoChampionError: the registry has no (served) champion.
        PacemakerValidationError: naming the file, the column and the problem.
    """
    champion = _require(champion)
    return champion.served.unwrap_python_model().score(logs, inference.file_name)


def report_batch_drift(champion: RegisteredModel | None, logs: pd.DataFrame, inference: AFInferenceConfig) -> dict:
    """The batch against the champion's training patients: per tenth of the record the KS
    test and the normed Wasserstein distance, and the batch's verdict.

    Raises:
        NoChampionError: the registry has no (served) champion.
        ValueError: the champion carries no drift reference or detector (registered before drift reports).
    """
    return _require(champion).served.unwrap_python_model().drift(logs, inference.file_name)


def plot_patients_on_diagnosis_map(diagnoses: pd.DataFrame, champion: RegisteredModel | None) -> plotting.Figure:
    """The diagnosed patients on the champion's diagnosis map, coloured by predicted class."""
    champion = _require(champion)
    n_classes = sum(c.startswith("probability_") and c[12:].isdigit() for c in diagnoses.columns)
    return latent_scatter_figure(
        diagnoses[["z_1", "z_2"]].to_numpy(np.float64),
        diagnoses["predicted_class"].to_numpy(),
        f"diagnosed patients, predicted class ({champion.name} v{champion.version})",
        n_classes=n_classes,
        label_name="predicted class",
    )
