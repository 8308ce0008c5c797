"""``rul_vae``'s served model, logged by MLflow as code: engine logs in, RUL per engine out
(:class:`autoencoder_pipelines.serving.RULModel`)."""

from mlflow.models import set_model

from autoencoder_pipelines.serving.rul import RULModel

set_model(RULModel())
