"""Nodes shared by the six MNIST pipelines: ingestion and preprocessing.

Pure functions: bytes and arrays in, arrays out; the catalog does the I/O.
"""

from __future__ import annotations

import numpy as np

from autoencoder_pipelines.data import mnist
from autoencoder_pipelines.data.config import MNISTDataConfig, MNISTIngestionConfig, NoiseConfig

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
