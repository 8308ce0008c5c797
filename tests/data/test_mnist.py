"""MNIST IDX parsing and validation, on files built in the test (and the real ones if present)."""

from __future__ import annotations

import gzip
import hashlib

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
    # Named ids: a gzip header holds the time it was written, and pytest-xdist refuses to
    # run when its workers' ids differ (they would, across a second's boundary).
    ids=["truncated-gzip", "not-gzip", "short-data", "wrong-magic", "wrong-dimensions", "too-short"],
)
def test_corrupt_image_files_are_refused_naming_the_file(content, message):
    with pytest.raises(MNISTValidationError, match=f"train-images-idx3-ubyte.gz: .*{message}"):
        mnist.read_images(content, "train-images-idx3-ubyte.gz", verify=False)


def test_known_files_must_match_their_md5():
    with pytest.raises(MNISTValidationError, match="t10k-images-idx3-ubyte.gz: md5"):
        mnist.read_images(gzip.compress(idx(IMAGES)), "t10k-images-idx3-ubyte.gz")


def test_decompress_reads_every_member_in_chunks_and_checks_the_md5():
    # Incompressible bytes: several inflate steps of 1 MiB; two gzip members, as `cat a.gz b.gz` makes.
    first, second = np.random.default_rng(1).bytes(3_000_000), b"second member"
    content = gzip.compress(first) + gzip.compress(second)
    md5 = hashlib.md5(first + second).hexdigest()
    assert mnist.decompress(content, "x.gz", expected_md5=md5) == first + second
    with pytest.raises(MNISTValidationError, match=f"x.gz: md5 of the decompressed content is {md5}, expected 0+;"):
        mnist.decompress(content, "x.gz", expected_md5="0" * 32)
    with pytest.raises(MNISTValidationError, match="x.gz: not a complete gzip file"):
        mnist.decompress(content + b"trailing bytes", "x.gz")
    with pytest.raises(MNISTValidationError, match="x.gz: not a complete gzip file"):
        mnist.decompress(b"", "x.gz")


def test_labels_must_be_digits_and_one_per_image():
    with pytest.raises(MNISTValidationError, match="label 12 outside 0..9"):
        mnist.read_labels(gzip.compress(idx(np.array([1, 12], np.uint8))), "l.gz", n_images=2)
    with pytest.raises(MNISTValidationError, match=r"dimensions \(5,\), expected \(4,\)"):
        mnist.read_labels(gzip.compress(idx(LABELS)), "l.gz", n_images=4)


# --- preprocessing ------------------------------------------------------------------


def test_scale_images_to_unit_range_in_both_layouts():
    images = np.array([[[0] * 28] * 28, [[255] * 28] * 28], np.uint8)
    flat, image = mnist.scale_images(images, "flat"), mnist.scale_images(images, "image")
    assert flat.shape == (2, 784) and image.shape == (2, 28, 28, 1)
    assert flat.dtype == image.dtype == np.float32
    assert flat[0].max() == 0.0 and flat[1].min() == 1.0
    with pytest.raises(ValueError, match="Unknown layout 'chw'"):
        mnist.scale_images(images, "chw")


def test_split_is_seeded_stratified_and_disjoint():
    labels = np.repeat(np.arange(10), 20)
    train, val = mnist.split_train_validation(labels, 0.25, seed=3)
    again, _ = mnist.split_train_validation(labels, 0.25, seed=3)
    other, _ = mnist.split_train_validation(labels, 0.25, seed=4)
    np.testing.assert_array_equal(train, again)
    assert not np.array_equal(train, other)
    assert len(val) == 50 and not set(train) & set(val) and len(train) + len(val) == 200
    np.testing.assert_array_equal(np.bincount(labels[val]), [5] * 10)


def test_gaussian_noise_is_seeded_clipped_and_leaves_the_input_alone():
    x = np.full((200, 784), 0.5, np.float32)
    noisy = mnist.add_noise(x, "gaussian", 0.3, np.random.default_rng(0))
    np.testing.assert_array_equal(noisy, mnist.add_noise(x, "gaussian", 0.3, np.random.default_rng(0)))
    assert noisy.min() >= 0 and noisy.max() <= 1 and np.all(x == 0.5)
    assert np.std(noisy - x) == pytest.approx(0.3 * 0.92, rel=0.05)  # std of a clipped N(0, 0.3) at 0.5


def test_salt_and_pepper_and_masking_hit_the_requested_fraction():
    x = np.full((100, 784), 0.5, np.float32)
    salted = mnist.add_noise(x, "salt_and_pepper", 0.2, np.random.default_rng(1))
    hit = salted != 0.5
    assert hit.mean() == pytest.approx(0.2, abs=0.01)
    assert set(np.unique(salted[hit])) == {0.0, 1.0} and (salted[hit] == 1).mean() == pytest.approx(0.5, abs=0.02)
    masked = mnist.add_noise(x, "masking", 0.3, np.random.default_rng(1))
    assert (masked == 0).mean() == pytest.approx(0.3, abs=0.01) and set(np.unique(masked)) == {0.0, 0.5}


@pytest.mark.parametrize(("kind", "factor"), [("gaussian", -0.1), ("masking", 1.5), ("salt_and_pepper", 2.0)])
def test_bad_noise_factors_are_refused(kind, factor):
    with pytest.raises(ValueError, match=f"noise factor={factor}"):
        mnist.add_noise(np.zeros((1, 4), np.float32), kind, factor, np.random.default_rng(0))
