"""MNIST IDX parsing and validation, on files built in the test (and the real ones if present)."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from autoencoder_pipelines.data import mnist
from autoencoder_pipelines.data.mnist import MNISTValidationError


def idx(array: np.ndarray) -> bytes:
    """IDX bytes of a uint8 array: magic 0x0000 08 ndim, big-endian dims, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


IMAGES = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28)).astype(np.uint8)
LABELS = np.array([0, 9, 3, 3, 7], np.uint8)


def test_read_images_and_labels_round_trip():
    images = mnist.read_images(gzip.compress(idx(IMAGES)), "imgs.gz")
    labels = mnist.read_labels(gzip.compress(idx(LABELS)), "labels.gz", n_images=5)
    np.testing.assert_array_equal(images, IMAGES)
    np.testing.assert_array_equal(labels, LABELS)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (gzip.compress(idx(IMAGES))[:-20], "not a complete gzip file"),
        (b"not gzip at all", "not a complete gzip file"),
        (gzip.compress(idx(IMAGES)[:-1]), "bytes of data for dimensions"),
        (gzip.compress(idx(IMAGES.reshape(5, 784))), "magic number 00000802"),
        (gzip.compress(idx(IMAGES[:, :27])), r"dimensions \(5, 27, 28\)"),
        (gzip.compress(b"\x00\x00"), "too short"),
    ],
)
def test_corrupt_image_files_are_refused_naming_the_file(content, message):
    with pytest.raises(MNISTValidationError, match=f"train-images-idx3-ubyte.gz: .*{message}"):
        mnist.read_images(content, "train-images-idx3-ubyte.gz", verify=False)


def test_known_files_must_match_their_md5():
    with pytest.raises(MNISTValidationError, match="t10k-images-idx3-ubyte.gz: md5"):
        mnist.read_images(gzip.compress(idx(IMAGES)), "t10k-images-idx3-ubyte.gz")


def test_labels_must_be_digits_and_one_per_image():
    with pytest.raises(MNISTValidationError, match="label 12 outside 0..9"):
        mnist.read_labels(gzip.compress(idx(np.array([1, 12], np.uint8))), "l.gz", n_images=2)
    with pytest.raises(MNISTValidationError, match=r"dimensions \(5,\), expected \(4,\)"):
        mnist.read_labels(gzip.compress(idx(LABELS)), "l.gz", n_images=4)
