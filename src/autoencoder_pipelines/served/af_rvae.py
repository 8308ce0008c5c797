"""``af_rvae``'s served model, logged by MLflow as code: pacemaker episode logs in, class,
class probabilities and diagnosis-map position per patient out
(:class:`autoencoder_pipelines.serving.AFModel`)."""

from mlflow.models import set_model

from autoencoder_pipelines.serving.af import AFModel

set_model(AFModel())
