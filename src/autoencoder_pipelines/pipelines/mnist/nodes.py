"""Nodes shared by the six MNIST pipelines: ingestion, preprocessing, the model description.

Pure functions: bytes and arrays in, arrays out; the catalog does the I/O.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from autoencoder_pipelines.data import mnist
from autoencoder_pipelines.data.config import MNISTDataConfig, MNISTIngestionConfig
from autoencoder_pipelines.evaluation import per_image_mse
from autoencoder_pipelines.promotion import indexed_scores

# --- ingestion (shared, not namespaced) ----------------------------------------------


def _read_set(images_raw: bytes, labels_raw: bytes, split: str, params: MNISTIngestionConfig):
    images_name, labels_name = mnist.FILES[f"{split}_images"], mnist.FILES[f"{split}_labels"]
    images = mnist.read_images(images_raw, images_name, verify=params.verify_checksums)
    labels = mnist.read_labels(labels_raw, labels_name, n_images=len(images), verify=params.verify_checksums)
    return images, labels


def ingest_training_set(images_raw: bytes, labels_raw: bytes, params: MNISTIngestionConfig) -> tuple[np.ndarray, np.ndarray]:
    """Decompress, verify and parse the 60,000 training images and their labels."""
    return _read_set(images_raw, labels_raw, "train", params)


def ingest_test_set(images_raw: bytes, labels_raw: bytes, params: MNISTIngestionConfig) -> tuple[np.ndarray, np.ndarray]:
    """Decompress, verify and parse the 10,000 test images and their labels."""
    return _read_set(images_raw, labels_raw, "test", params)


# --- per-image scores: what the promotion's paired test resamples ------------------------


def score_reconstructions(reconstructions: np.ndarray, x_test: np.ndarray) -> pd.DataFrame:
    """Each test image's reconstruction MSE (item ``test:<index>``; their mean is the MSE)."""
    return indexed_scores(per_image_mse(x_test, reconstructions))


def score_classifications(probabilities: np.ndarray, y_test: np.ndarray) -> pd.DataFrame:
    """Each test image's correctness, 1 or 0 (item ``test:<index>``; their mean is the accuracy)."""
    return indexed_scores(np.asarray(probabilities).argmax(axis=1) == np.asarray(y_test))


# --- preprocessing (namespaced per pipeline) ------------------------------------------


def split_training_set(
    images: np.ndarray, labels: np.ndarray, data: MNISTDataConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scale to [0, 1] in the model's layout, and hold out a seeded, stratified validation set."""
    train_idx, val_idx = mnist.split_train_validation(labels, data.validation_fraction, data.split_seed)
    # Split the bytes, then scale each part: a quarter of the memory traffic of scaling all first.
    return (
        mnist.scale_images(images[train_idx], data.layout),
        labels[train_idx],
        mnist.scale_images(images[val_idx], data.layout),
        labels[val_idx],
    )


def scale_test_set(images: np.ndarray, labels: np.ndarray, data: MNISTDataConfig) -> tuple[np.ndarray, np.ndarray]:
    """Scale the test images to [0, 1] in the model's layout."""
    return mnist.scale_images(images, data.layout), labels


def model_describer(task: str):
    """The ``describe_challenger`` node of the MNIST task ``task``."""

    def describe_model(data: MNISTDataConfig, test_images: np.ndarray) -> dict:
        """What a registered MNIST model carries besides its weights, checked as the served
        model's typed settings (``serving.MNISTSettings``): its task and the data settings
        (layout, scaling, split) its inputs need; and an example request (the first two
        test images, grey levels 0..255)."""
        from autoencoder_pipelines import serving  # noqa: PLC0415 - MLflow's pyfunc is slow to import

        settings = serving.settings_from({"task": task, "data": data.model_dump(mode="json")})
        return {**settings.model_dump(mode="json", exclude_none=True), "input_example": test_images[:2].tolist()}

    describe_model.__qualname__ = f"model_describer({task!r})"
    return describe_model
