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

The input is checked by the model, with the batch pipeline's checks
(:func:`autoencoder_pipelines.data.cmapss.validate_engine_frame`): a request that lacks a
column, holds NaN or text, or has unsorted cycles is refused with a message naming the
column and the problem, which the MLflow scoring server answers with HTTP 400. For that
reason the signature declares the outputs only: a typed input schema would make MLflow
convert the columns first and refuse bad values with a message that names no column.
The input example shows the layout.

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
from pydantic import BaseModel, ConfigDict, Field

import autoencoder_pipelines
from autoencoder_pipelines.data import cmapss
from autoencoder_pipelines.data.cmapss import CMAPSSValidationError
from autoencoder_pipelines.data.config import CMAPSSConfig

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
    metrics: dict[str, float] = Field(default_factory=dict, description="test metrics of the run that trained it")

    @property
    def required_columns(self) -> tuple[str, ...]:
        return (*cmapss.INDEX_COLUMNS, *cmapss.SETTING_COLUMNS, *self.data.sensor_columns)


ServingSettings = Annotated[RULSettings, Field(discriminator="task")]


def settings_from(metadata: dict[str, Any]) -> RULSettings:
    """The typed settings of a model from the dict a task's pipeline describes it with.

    Raises:
        pydantic.ValidationError: naming the missing or mistyped field.
    """
    return RULSettings.model_validate(metadata)


class RULModel(mlflow.pyfunc.PythonModel):
    """``rul_vae``: engine logs in the C-MAPSS layout (``unit_nr``, ``time_cycles``,
    ``setting_1..3`` and the model's sensors; any number of engines, each engine's
    cycles 1, 2, 3, ... in order) → one row per engine: its RUL, the spread between an
    ensemble's members, its health-map position and the model version.

    The engines go through the model's own preprocessing (its condition scaler, smoothing
    and last window, padded for engines shorter than the window).
    """

    OUTPUTS: ClassVar[dict[str, str]] = {
        "unit_nr": "long",
        "n_cycles": "long",
        "predicted_rul": "double",
        "rul_spread": "double",
        "z_1": "double",
        "z_2": "double",
        "model": "string",
        "model_version": "string",
    }

    def __init__(self) -> None:
        self.model = None
        self.settings: RULSettings | None = None

    def load_context(self, context) -> None:
        import keras  # noqa: PLC0415

        from autoencoder_pipelines.models import model_classes  # noqa: PLC0415

        model_classes()  # registers the custom classes: the model loads in safe mode
        self.settings = RULSettings.model_validate_json(Path(context.artifacts[SETTINGS_ARTIFACT]).read_text())
        self.model = keras.saving.load_model(context.artifacts[KERAS_ARTIFACT])

    def predict(self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        try:
            return self.score(model_input, REQUEST)
        except CMAPSSValidationError as error:
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from None

    def score(self, engines: pd.DataFrame, name: str) -> pd.DataFrame:
        """:meth:`predict` without MLflow's exception: ``name`` is what errors call ``engines``.

        Raises:
            CMAPSSValidationError: naming the column and the problem.
        """
        from autoencoder_pipelines.inference import score_engines  # noqa: PLC0415 - imports Keras

        if not isinstance(engines, pd.DataFrame):
            raise CMAPSSValidationError(
                f"{name}: expected a table with named columns (CSV with a header, or JSON "
                f"dataframe_split / dataframe_records), got {type(engines).__name__}."
            )
        settings = self.settings
        engines = cmapss.validate_engine_frame(engines, name, settings.required_columns)
        scored = score_engines(self.model, engines, settings.condition_scaler, settings.data, name)
        return scored.assign(
            model=settings.registered_model or "",
            model_version=settings.version or "",
        )[list(self.OUTPUTS)]


PYTHON_MODELS: dict[str, type[mlflow.pyfunc.PythonModel]] = {"rul_vae": RULModel}


def model_code(task: str) -> Path:
    """The file MLflow logs as ``task``'s model (models from code: no pickle)."""
    return Path(autoencoder_pipelines.__file__).parent / "served" / f"{task}.py"


def signature(settings: RULSettings):
    """The outputs' schema (see the module's docstring for why not the inputs')."""
    from mlflow.models import ModelSignature  # noqa: PLC0415
    from mlflow.types import ColSpec, Schema  # noqa: PLC0415

    outputs = PYTHON_MODELS[settings.task].OUTPUTS
    return ModelSignature(inputs=None, outputs=Schema([ColSpec(kind, name) for name, kind in outputs.items()]))


def pip_requirements() -> list[str]:
    """What the model's code needs, pinned to this environment's versions (MLflow adds itself)."""
    pins = []
    for package in ("keras", "tensorflow", "numpy", "pandas", "pyarrow", "pydantic", "scikit-learn"):
        with suppress(distributions.PackageNotFoundError):
            pins.append(f"{package}=={distributions.version(package)}")
    return pins


def log_model(model, settings: RULSettings, *, name: str, registered_model_name: str | None, input_example: pd.DataFrame | None):
    """Log ``model`` with ``settings`` as a pyfunc model into the active MLflow run.

    The model is logged as code (``served/<task>.py``), not pickled, and the package's
    code travels with it (``code_paths``), so that a container or another environment
    needs only the pinned libraries, not this project.

    Returns:
        MLflow's ``ModelInfo`` (``registered_model_version`` when registered).
    """
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
            signature=signature(settings),
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
