"""A task's trained model as one MLflow model: raw inputs in, the task's answer out.

What the registry holds for a task is an ``mlflow.pyfunc`` model: the Keras model (an
ensemble with all its members when the run trained one) and the **typed settings** its
inputs need (:class:`RULSettings` for ``rul_vae``: the fitted condition scaler, the data
settings, a sample of the health map), together with the code of this package. So the
registered champion loads anywhere MLflow does and serves over HTTP::

    mlflow.pyfunc.load_model("models:/rul_vae_FD001@champion").predict(engine_logs)
    mlflow models serve -m "models:/rul_vae_FD001@champion" --env-manager local

and ``rul_inference`` and the promotion stage score through the same object, so batch
scoring, ``load_model`` and the server give identical numbers.

The input is checked by the model against its format's declared schema
(:mod:`autoencoder_pipelines.data.schemas`, the same declaration the batch pipelines' catalog
uses): a request that lacks a column, holds NaN, inf, text or a value outside the engine
envelope, or has cycles out of order is refused with a message naming the row, the column
and the check, which the MLflow scoring server answers with HTTP 400. For that reason the
signature declares the outputs only: a typed input schema would make MLflow convert the
columns first and refuse bad values with a message that names no column. The input example
shows the layout.

No Kedro here: the registry (:mod:`autoencoder_pipelines.registry`) logs and loads these.
"""

from __future__ import annotations

import json
import tempfile
from contextlib import suppress
from importlib import metadata as distributions
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

import autoencoder_pipelines
from autoencoder_pipelines.data import cmapss
from autoencoder_pipelines.data.cmapss import CMAPSSValidationError
from autoencoder_pipelines.data import pacemaker, schemas
from autoencoder_pipelines.data.config import AFSeriesConfig, CMAPSSConfig, MNISTDataConfig, PacemakerSimulationConfig
from autoencoder_pipelines.data.mnist import MNISTValidationError
from autoencoder_pipelines.data.pacemaker import PacemakerValidationError
from autoencoder_pipelines.monitoring import DriftReference, MahalanobisDetector, ThresholdDetector, drift_report
from autoencoder_pipelines.uncertainty import RULIntervals, TemperatureScaling

KERAS_ARTIFACT = "keras_model"
SETTINGS_ARTIFACT = "settings"
REQUEST = "request"  # what error messages call a request's table


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


MNIST_TASKS = ("denoising_ae", "sparse_ae", "contractive_ae", "vae", "vq_vae", "vae_classifier")


class MNISTSettings(BaseModel):
    """What an MNIST model needs besides its weights, stored with it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: Literal["denoising_ae", "sparse_ae", "contractive_ae", "vae", "vq_vae", "vae_classifier"]
    registered_model: str | None = Field(default=None, description="the registered model's name")
    version: str | None = Field(default=None, description="its version in the registry")
    data: MNISTDataConfig
    metrics: dict[str, float] = Field(default_factory=dict, description="test metrics of the run that trained it")


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


ServingSettings = Annotated[RULSettings | MNISTSettings | AFSettings, Field(discriminator="task")]
_SETTINGS = TypeAdapter(ServingSettings)


Settings = RULSettings | MNISTSettings | AFSettings


def settings_from(metadata: dict[str, Any]) -> Settings:
    """The typed settings of a model from the dict a task's pipeline describes it with
    (its ``task`` picks the class).

    Raises:
        pydantic.ValidationError: naming the missing or mistyped field.
    """
    return _SETTINGS.validate_python(metadata)


class ServedModel(mlflow.pyfunc.PythonModel):
    """A Keras model and its typed settings (the artifacts :func:`log_model` writes); a
    subclass answers one task's requests in :meth:`score`, raising ``INVALID_INPUT`` on bad
    input, which :meth:`predict` turns into MLflow's "invalid parameter value" (HTTP 400)."""

    INVALID_INPUT: ClassVar[tuple[type[Exception], ...]] = ()

    def __init__(self) -> None:
        self.model = None
        self.settings = None

    def load_context(self, context) -> None:
        import keras  # noqa: PLC0415

        from autoencoder_pipelines.models import model_classes  # noqa: PLC0415

        model_classes()  # registers the custom classes: the model loads in safe mode
        self.settings = _SETTINGS.validate_json(Path(context.artifacts[SETTINGS_ARTIFACT]).read_text())
        self.model = keras.saving.load_model(context.artifacts[KERAS_ARTIFACT])

    def predict(self, context, model_input, params: dict[str, Any] | None = None):
        try:
            return self.score(model_input, REQUEST)
        except self.INVALID_INPUT as error:
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from None

    def score(self, model_input, name: str):
        raise NotImplementedError

    def drift_reference(self) -> DriftReference:
        """The sample of its training items a drift report compares a batch with.

        Raises:
            ValueError: the model carries none (registered before drift reports).
        """
        settings = self.settings
        if getattr(settings, "drift_reference", None) is None:
            raise ValueError(
                f"{settings.registered_model} version {settings.version} carries no drift reference (it was registered "
                f"before drift reports): retrain it (`kedro run --pipeline={settings.task}_retrain`)."
            )
        return settings.drift_reference


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
        "unit_nr", "n_cycles", "predicted_rul", "rul_lower", "rul_upper", "rul_spread", "ood_score", "ood",
        "z_1", "z_2", "model", "model_version",
    )
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
        (``monitoring.drift_report`` on each engine's last cycle of scaled, smoothed sensors,
        matched to its predicted RUL).

        Raises:
            CMAPSSValidationError: the engines fail the model's checks.
            ValueError: the model carries no drift reference (registered before drift reports).
        """
        from autoencoder_pipelines.inference import engine_features, last_cycle, predict_in_chunks  # noqa: PLC0415

        settings, reference = self.settings, self.drift_reference()
        engines = schemas.validate_engine_log(engines, name, settings.required_columns)
        windows, _ = engine_features(engines, settings.condition_scaler, settings.data, name)
        answers = predict_in_chunks(self.model, windows)["rul"]
        report = drift_report(reference, last_cycle(windows, settings.data.sensor_columns), answers)
        return {"model": settings.registered_model or "", "model_version": settings.version or "", **report}


class MNISTModel(ServedModel):
    """An MNIST task: images (integer grey levels 0..255, 28 x 28; an array ``(n, 28, 28)``,
    ``(n, 784)`` or ``(n, 28, 28, 1)``, or a table of 784 columns) → per image the task's
    answer, as arrays: ``reconstruction`` ``(n, 784)`` in [0, 1] (the denoised image for
    ``denoising_ae``) and ``code`` (the autoencoders' code, the VAEs' latent mean,
    ``vq_vae``'s codebook indices); ``vae_classifier`` also ``class`` and ``probabilities``
    ``(n, 10)``. An ensemble adds the spread between its members (``<name>_spread``).

    The images go through the model's own preprocessing (scaled to [0, 1], in its layout).
    """

    INVALID_INPUT = (MNISTValidationError,)

    def score(self, model_input, name: str) -> dict[str, np.ndarray]:
        from autoencoder_pipelines.data import mnist  # noqa: PLC0415

        images = schemas.validate_images(model_input, name)
        from autoencoder_pipelines.inference import predict_in_chunks  # noqa: PLC0415

        outputs = predict_in_chunks(self.model, mnist.scale_images(images, self.settings.data.layout), chunk=256)
        n = len(images)
        code = outputs.get("code", outputs.get("codes", outputs.get("z_mean")))
        answer = {
            "reconstruction": np.asarray(outputs["reconstruction"], np.float64).reshape(n, -1),
            "code": np.asarray(code).reshape(n, -1),
        }
        if "probabilities" in outputs:
            answer["class"] = np.argmax(outputs["probabilities"], axis=-1).astype(np.int64)
            answer["probabilities"] = np.asarray(outputs["probabilities"], np.float64)
        for key in ("reconstruction_spread", "probabilities_spread"):
            if key in outputs:
                answer[key] = np.asarray(outputs[key], np.float64).reshape(n, -1)
        for key, values in answer.items():
            ensure_finite(pd.DataFrame(values.reshape(n, -1)).add_prefix(f"{key}_"), name)
        return answer


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
            ValueError: the model carries no drift reference (registered before drift reports).
        """
        from autoencoder_pipelines.inference import diagnose_series  # noqa: PLC0415 - imports Keras

        reference = self.drift_reference()
        _, series = self.series(logs, name)
        answers = diagnose_series(self.model, series, None, None)["raw_probabilities"].argmax(axis=1)
        report = drift_report(reference, pacemaker.record_tenths(series), answers)
        settings = self.settings
        return {"model": settings.registered_model or "", "model_version": settings.version or "", **report}

    def score(self, logs: pd.DataFrame, name: str) -> pd.DataFrame:
        from autoencoder_pipelines.inference import diagnose_series  # noqa: PLC0415 - imports Keras

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
            "z_1": z[:, 0],
            "z_2": z[:, 1] if z.shape[1] > 1 else 0.0,
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


def ensure_finite(answer: pd.DataFrame, name: str) -> pd.DataFrame:
    """``answer`` unchanged if every number in it is finite.

    Raises:
        FloatingPointError: naming the column (a model that answers NaN or inf for a valid
            input is broken; the answer is never sent).
    """
    numbers = answer.select_dtypes("number")
    bad = ~np.isfinite(numbers.to_numpy(np.float64))
    if bad.any():
        row, column = (int(i[0]) for i in np.nonzero(bad))
        raise FloatingPointError(
            f"{name}: the model answered {numbers.iat[row, column]} in column {numbers.columns[column]!r} of row "
            f"{row + 1}; the input passed its checks, so the model is at fault: no answer is given."
        )
    return answer


PYTHON_MODELS: dict[str, type[mlflow.pyfunc.PythonModel]] = (
    {"rul_vae": RULModel, "af_rvae": AFModel} | dict.fromkeys(MNIST_TASKS, MNISTModel)
)


def model_code(task: str) -> Path:
    """The file MLflow logs as ``task``'s model (models from code: no pickle)."""
    module = "mnist" if task in MNIST_TASKS else task  # served/rul_vae.py, served/af_rvae.py, served/mnist.py
    return Path(autoencoder_pipelines.__file__).parent / "served" / f"{module}.py"


def served(model, settings: Settings) -> ServedModel:
    """The task's served model around ``model`` and ``settings``, as MLflow loads it."""
    python_model = PYTHON_MODELS[settings.task]()
    python_model.model, python_model.settings = model, settings
    return python_model


def rul_model_of(champion) -> RULModel:
    """The served ``rul_vae`` model of a registered version (``registry.RegisteredModel``);
    for a version registered before models were served (a bare Keras model, its settings
    as metadata), the same served model built around it."""
    if champion.served is not None:
        return champion.served.unwrap_python_model()
    settings = RULSettings.model_validate(
        {**champion.metadata, "task": "rul_vae", "registered_model": champion.name, "version": champion.version}
    )
    return served(champion.model, settings)


def pip_requirements() -> list[str]:
    """What the model's code needs, pinned to this environment's versions (MLflow adds itself)."""
    pins = []
    for package in ("keras", "tensorflow", "numpy", "pandas", "pandera", "pyarrow", "pydantic", "scipy"):
        with suppress(distributions.PackageNotFoundError):
            pins.append(f"{package}=={distributions.version(package)}")
    return pins


def log_model(model, settings: Settings, *, name: str, registered_model_name: str | None, input_example):
    """Log ``model`` with ``settings`` as a pyfunc model into the active MLflow run.

    The signature is that of the model's answer to ``input_example`` (outputs only: see
    the module's docstring), which is scored here first, so a model that cannot answer
    its own example is never logged.

    The model is logged as code (``served/<task>.py``), not pickled, and the package's
    code travels with it (``code_paths``), so that a container or another environment
    needs only the pinned libraries, not this project.

    Returns:
        MLflow's ``ModelInfo`` (``registered_model_version`` when registered).
    """
    from mlflow.models import infer_signature  # noqa: PLC0415

    if input_example is None:
        raise ValueError(f"{settings.task}: a served model is logged with an input example; got none.")
    answer = served(model, settings).score(input_example, "input example")
    with tempfile.TemporaryDirectory(prefix="served-model-") as folder:
        keras_path = Path(folder) / "model.keras"
        settings_path = Path(folder) / "settings.json"
        model.save(keras_path)
        settings_path.write_text(settings.model_dump_json(by_alias=True, indent=1))
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(model_code(settings.task)),
            artifacts={KERAS_ARTIFACT: str(keras_path), SETTINGS_ARTIFACT: str(settings_path)},
            code_paths=[str(Path(autoencoder_pipelines.__file__).parent)],
            signature=infer_signature(None, answer),
            input_example=input_example,
            pip_requirements=pip_requirements(),
            registered_model_name=registered_model_name,
            metadata={"task": settings.task, "settings": json.loads(settings.model_dump_json(by_alias=True))},
        )


def input_example(engines: pd.DataFrame, settings: RULSettings, n_engines: int = 2) -> pd.DataFrame:
    """The first ``n_engines`` engines of ``engines``, in the columns the model reads:
    what a request looks like."""
    first = np.sort(engines["unit_nr"].unique())[:n_engines]
    rows = engines[engines["unit_nr"].isin(first)]
    return rows[list(settings.required_columns)].reset_index(drop=True)
