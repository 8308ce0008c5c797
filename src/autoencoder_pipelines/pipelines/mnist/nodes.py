"""Nodes shared by the six MNIST pipelines: ingestion, preprocessing, fitting.

Pure functions: bytes and arrays in, arrays out; the catalog does the I/O.
"""

from __future__ import annotations

import keras
import numpy as np
from pydantic import BaseModel

from autoencoder_pipelines.data import mnist
from autoencoder_pipelines.data.config import MNISTDataConfig, MNISTIngestionConfig, NoiseConfig
from autoencoder_pipelines.models import TrainingConfig, fit_model
from autoencoder_pipelines.models.training import run_fingerprint

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


# --- preprocessing (namespaced per pipeline) ------------------------------------------


def split_training_set(
    images: np.ndarray, labels: np.ndarray, data: MNISTDataConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scale to [0, 1] in the model's layout, and hold out a seeded, stratified validation set."""
    train_idx, val_idx = mnist.split_train_validation(labels, data.validation_fraction, data.split_seed)
    x = mnist.scale_images(images, data.layout)
    return x[train_idx], labels[train_idx], x[val_idx], labels[val_idx]


def scale_test_set(images: np.ndarray, labels: np.ndarray, data: MNISTDataConfig) -> tuple[np.ndarray, np.ndarray]:
    """Scale the test images to [0, 1] in the model's layout."""
    return mnist.scale_images(images, data.layout), labels


def inject_noise(
    x_train: np.ndarray, x_val: np.ndarray, x_test: np.ndarray, noise: NoiseConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Corrupted copies of the three sets, each from its own seeded stream.

    The training set gets ``noise.train_copies`` noisy versions of every image (stacked:
    copy ``k`` of image ``i`` is row ``k * len(x_train) + i``), so the model cannot learn
    one fixed noise pattern per image; validation and test get one each.
    """
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(noise.seed).spawn(3)]
    train = np.concatenate([mnist.add_noise(x_train, noise.kind, noise.factor, streams[0]) for _ in range(noise.train_copies)])
    return (
        train,
        mnist.add_noise(x_val, noise.kind, noise.factor, streams[1]),
        mnist.add_noise(x_test, noise.kind, noise.factor, streams[2]),
    )


# --- training ---------------------------------------------------------------------


def fit_image_model(
    model_class: type[keras.Model],
    architecture: BaseModel,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    training: TrainingConfig,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Fit ``model_class`` built from ``architecture`` (completed with the data's input
    shape and the training seed); ``y`` is the target: images or labels."""
    config = architecture.model_copy(update={"input_shape": tuple(x_train.shape[1:]), "seed": training.seed})
    key = run_fingerprint(
        model_class.__name__,
        config.model_dump(mode="json"),
        training.model_dump(exclude={"verbose", "backup_dir"}),
        x_train, y_train, x_val, y_val,
    )
    return fit_model(
        lambda: model_class(config),
        x_train,
        y_train,
        (x_val, y_val),
        training,
        run_key=f"{model_class.__name__}-{key}",
    )


def predict_in_batches(model: keras.Model, x: np.ndarray, batch_size: int = 1000) -> dict[str, np.ndarray]:
    """``model.predict`` of the dict outputs, in inference mode."""
    return model.predict(x, batch_size=batch_size, verbose=0)
