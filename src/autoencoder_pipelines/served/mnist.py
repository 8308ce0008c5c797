"""The MNIST tasks' served model, logged by MLflow as code: images in, the task's answer
out (:class:`autoencoder_pipelines.serving.MNISTModel`; the task is in its settings)."""

from mlflow.models import set_model

from autoencoder_pipelines.serving.mnist import MNISTModel

set_model(MNISTModel())
