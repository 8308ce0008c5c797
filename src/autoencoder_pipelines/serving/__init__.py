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
Each task's served model and settings are in their own module (``rul``, ``mnist``, ``af``);
``base`` holds what they share.
"""

from __future__ import annotations

import tempfile
from contextlib import suppress
from importlib import metadata as distributions
from pathlib import Path
from typing import Annotated, Any

import mlflow.pyfunc
from pydantic import Field, TypeAdapter

import autoencoder_pipelines
from autoencoder_pipelines.serving.af import AFModel, AFSettings
from autoencoder_pipelines.serving.base import (
    KERAS_ARTIFACT,
    REQUEST,
    SETTINGS_ARTIFACT,
    ServedModel,
    ensure_finite,
)
from autoencoder_pipelines.serving.mnist import MNIST_TASKS, MNISTModel, MNISTSettings
from autoencoder_pipelines.serving.rul import (
    HealthMap,
    RULModel,
    RULSettings,
    input_example,
    rul_model_of,
)

__all__ = [
    "AFModel",
    "AFSettings",
    "HealthMap",
    "KERAS_ARTIFACT",
    "MNISTModel",
    "MNISTSettings",
    "MNIST_TASKS",
    "PYTHON_MODELS",
    "REQUEST",
    "RULModel",
    "RULSettings",
    "SETTINGS_ARTIFACT",
    "ServedModel",
    "ensure_finite",
    "input_example",
    "log_model",
    "model_code",
    "pip_requirements",
    "rul_model_of",
    "served",
    "settings_from",
]

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


PYTHON_MODELS: dict[str, type[mlflow.pyfunc.PythonModel]] = {"rul_vae": RULModel, "af_rvae": AFModel} | dict.fromkeys(
    MNIST_TASKS, MNISTModel
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


def pip_requirements(code_included: bool = True) -> list[str]:
    """What a logged model needs, pinned to this environment's versions (MLflow adds
    itself): the libraries this package's code uses, and the package itself when its code
    does not travel with the model (``code_included=False``: a bare Keras model)."""
    packages = ("keras", "tensorflow", "numpy", "pandas", "pandera", "pyarrow", "pydantic", "scipy")
    pins = []
    for package in packages if code_included else ("autoencoder-pipelines", *packages):
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
            # The settings travel once, as the settings.json artifact: MLflow parses the
            # MLmodel file (YAML, in pure Python) at every load, and a drift reference in it
            # made loading a model take seconds.
            metadata={"task": settings.task, "registered_model": settings.registered_model, "version": settings.version},
        )
