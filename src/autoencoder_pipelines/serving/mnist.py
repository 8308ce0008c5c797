"""The MNIST tasks' served model: images in, each task's answer out."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from autoencoder_pipelines.data import schemas
from autoencoder_pipelines.data.config import MNISTDataConfig
from autoencoder_pipelines.data.mnist import MNISTValidationError
from autoencoder_pipelines.serving.base import ServedModel, ensure_finite

MNIST_TASKS = ("denoising_ae", "sparse_ae", "contractive_ae", "vae", "vq_vae", "vae_classifier")


class MNISTSettings(BaseModel):
    """What an MNIST model needs besides its weights, stored with it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: Literal["denoising_ae", "sparse_ae", "contractive_ae", "vae", "vq_vae", "vae_classifier"]
    registered_model: str | None = Field(default=None, description="the registered model's name")
    version: str | None = Field(default=None, description="its version in the registry")
    data: MNISTDataConfig
    metrics: dict[str, float] = Field(default_factory=dict, description="test metrics of the run that trained it")


class MNISTModel(ServedModel):
    """An MNIST task: images (integer grey levels 0..255, 28 x 28; an array ``(n, 28, 28)``,
    ``(n, 784)`` or ``(n, 28, 28, 1)``, or a table of 784 columns) → per image the task's
    answer, as arrays: ``reconstruction`` ``(n, 784)`` in [0, 1] (the denoised image for
    ``denoising_ae``) and ``code`` (the autoencoders' code, the VAEs' latent mean,
    ``vq_vae``'s codebook indices); ``vae_classifier`` also ``class`` and ``probabilities``
    ``(n, 10)``. An ensemble adds the spread between its members (``<name>_spread``).

    The images go through the model's own preprocessing (scaled to [0, 1], in its layout).
    """

    SETTINGS = MNISTSettings
    INVALID_INPUT = (MNISTValidationError,)

    def score(self, model_input, name: str) -> dict[str, np.ndarray]:
        from autoencoder_pipelines.data import mnist  # noqa: PLC0415

        images = schemas.validate_images(model_input, name)
        from autoencoder_pipelines.models import predict_in_chunks  # noqa: PLC0415

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
