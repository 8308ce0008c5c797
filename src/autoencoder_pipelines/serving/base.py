"""What every served model shares: a Keras model and its typed settings loaded from the
artifacts :func:`autoencoder_pipelines.serving.log_model` writes, bad input answered as
MLflow's "invalid parameter value" (HTTP 400), and answers checked to be finite. Each
task's model and settings are in their own module (``rul``, ``mnist``, ``af``); this one
knows none of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from pydantic import BaseModel

from autoencoder_pipelines.monitoring import DriftReference

KERAS_ARTIFACT = "keras_model"
SETTINGS_ARTIFACT = "settings"
REQUEST = "request"  # what error messages call a request's table


class ServedModel(mlflow.pyfunc.PythonModel):
    """A Keras model and its typed settings (the artifacts :func:`log_model` writes); a
    subclass answers one task's requests in :meth:`score`, raising ``INVALID_INPUT`` on bad
    input, which :meth:`predict` turns into MLflow's "invalid parameter value" (HTTP 400)."""

    SETTINGS: ClassVar[type[BaseModel]]  # the task's settings class
    INVALID_INPUT: ClassVar[tuple[type[Exception], ...]] = ()

    def __init__(self) -> None:
        self.model = None
        self.settings = None

    def load_context(self, context) -> None:
        import keras  # noqa: PLC0415

        from autoencoder_pipelines.models import model_classes  # noqa: PLC0415

        model_classes()  # registers the custom classes: the model loads in safe mode
        self.settings = self.SETTINGS.model_validate_json(Path(context.artifacts[SETTINGS_ARTIFACT]).read_text())
        self.model = keras.saving.load_model(context.artifacts[KERAS_ARTIFACT])

    def predict(self, context, model_input, params: dict[str, Any] | None = None):
        try:
            return self.score(model_input, REQUEST)
        except self.INVALID_INPUT as error:
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from None

    def score(self, model_input, name: str):
        raise NotImplementedError

    def drift_reference(self) -> DriftReference:
        """The sample of its training items a drift report compares a batch with; the model's
        out-of-distribution detector (``settings.ood``), whose flags decide the verdict, is
        checked to be there too.

        Raises:
            ValueError: the model carries no drift reference or no detector (registered
                before drift reports).
        """
        settings = self.settings
        for field, what in (("drift_reference", "drift reference"), ("ood", "out-of-distribution detector")):
            if getattr(settings, field, None) is None:
                raise ValueError(
                    f"{settings.registered_model} version {settings.version} carries no {what} (it was registered "
                    f"before drift reports): retrain it (`kedro run --pipeline={settings.task}_retrain`)."
                )
        return settings.drift_reference


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
