"""MNIST in its standard IDX files (gzip): decompression, validation and parsing.

Pure functions on bytes; the catalog reads the files (``RawFileDataset``). The IDX
layout (LeCun et al.): a 4-byte magic number ``0x00 0x00 <type> <ndim>``, ``ndim``
big-endian uint32 dimensions, then the values in C order. MNIST uses type ``0x08``
(unsigned bytes): images ``(n, 28, 28)`` and labels ``(n,)``.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np
from zlib_ng import zlib_ng

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

# md5 of the decompressed IDX bytes (the .gz files differ between mirrors).
KNOWN_MD5 = {
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}

_UBYTE = 0x08


class MNISTValidationError(ValueError):
    """An MNIST file is not the IDX content the pipelines expect."""


_CHUNK = 1 << 20  # compressed bytes inflated per step


def decompress(content: bytes, name: str, expected_md5: str | None = None) -> bytes:
    """Gunzip ``content`` (every gzip member); with ``expected_md5``, check the md5 of the result.

    zlib-ng inflates (about twice as fast as the standard library's zlib on these files) and
    checks each member's CRC-32 and length. The md5 is fed the decompressed chunks as they
    come, in a helper thread: both release the GIL, so hashing overlaps inflating.

    Raises:
        MNISTValidationError: naming the file, on a truncated or corrupt archive, or an md5
            other than ``expected_md5``.
    """
    pieces: list[bytes] = []
    view, position = memoryview(content), 0
    digest = hashlib.md5(usedforsecurity=False) if expected_md5 else None
    with ThreadPoolExecutor(max_workers=1) as hasher:  # one worker: chunks are hashed in order
        try:
            while True:
                inflater = zlib_ng.decompressobj(wbits=31)  # a gzip member: header, deflate data, trailer
                while not inflater.eof and position < len(view):
                    step = view[position : position + _CHUNK]
                    piece = inflater.decompress(step)
                    position += len(step)
                    if digest is not None and piece:
                        hasher.submit(digest.update, piece)
                    pieces.append(piece)
                if not inflater.eof:
                    raise MNISTValidationError(f"{name}: not a complete gzip file (it ends inside a gzip member).")
                position -= len(inflater.unused_data)
                if position >= len(view):
                    break
        except zlib_ng.error as err:
            raise MNISTValidationError(f"{name}: not a complete gzip file ({err}).") from None
    raw = b"".join(pieces)
    if digest is not None and digest.hexdigest() != expected_md5:
        raise MNISTValidationError(
            f"{name}: md5 of the decompressed content is {digest.hexdigest()}, expected {expected_md5}; "
            "the file is corrupt or not the standard MNIST."
        )
    return raw


def parse_idx(raw: bytes, name: str, shape: tuple[int | None, ...]) -> np.ndarray:
    """Parse decompressed IDX bytes of unsigned bytes into an array.

    Args:
        raw: the decompressed file.
        name: the file name, for error messages.
        shape: the expected shape; ``None`` leaves a dimension free, e.g.
            ``(None, 28, 28)`` for images, ``(None,)`` for labels.

    Raises:
        MNISTValidationError: on a wrong magic number, type, dimensions or size.
    """
    if len(raw) < 4:
        raise MNISTValidationError(f"{name}: {len(raw)} bytes, too short for an IDX header.")
    zero, dtype, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or dtype != _UBYTE or ndim != len(shape):
        raise MNISTValidationError(
            f"{name}: magic number {raw[:4].hex()} is not an IDX file of unsigned bytes with "
            f"{len(shape)} dimensions (expected 000008{len(shape):02x})."
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MNISTValidationError(f"{name}: truncated IDX header.")
    dims = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">u4"))
    for got, want in zip(dims, shape):
        if want is not None and got != want:
            raise MNISTValidationError(f"{name}: dimensions {dims}, expected {shape} (None = any).")
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise MNISTValidationError(f"{name}: {len(raw) - header} bytes of data for dimensions {dims}, expected {expected}.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_images(content: bytes, name: str, verify: bool = True) -> np.ndarray:
    """Images ``(n, 28, 28)`` uint8 from a gzip IDX file."""
    raw = decompress(content, name, KNOWN_MD5.get(name) if verify else None)
    return parse_idx(raw, name, (None, 28, 28))


def read_labels(content: bytes, name: str, n_images: int, verify: bool = True) -> np.ndarray:
    """Labels ``(n,)`` uint8 in 0..9 from a gzip IDX file, one per image."""
    raw = decompress(content, name, KNOWN_MD5.get(name) if verify else None)
    labels = parse_idx(raw, name, (n_images,))
    if labels.size and labels.max() > 9:
        raise MNISTValidationError(f"{name}: label {int(labels.max())} outside 0..9.")
    return labels


# --- preprocessing ------------------------------------------------------------------

Layout = Literal["flat", "image"]


def scale_images(images: np.ndarray, layout: Layout) -> np.ndarray:
    """uint8 images ``(n, 28, 28)`` -> float32 in [0, 1], ``(n, 784)`` or ``(n, 28, 28, 1)``."""
    scaled = np.divide(images, np.float32(255.0), dtype=np.float32)  # one pass; the same values as astype, then divide
    if layout == "flat":
        return scaled.reshape(len(images), -1)
    if layout == "image":
        return scaled[..., np.newaxis]
    raise ValueError(f"Unknown layout {layout!r}; expected 'flat' or 'image'.")


def split_train_validation(labels: np.ndarray, validation_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of image indices, stratified by digit: ``(train_idx, val_idx)``, sorted."""
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction={validation_fraction}: expected a value in (0, 1).")
    from sklearn.model_selection import train_test_split  # noqa: PLC0415 - slow to import; only when splitting

    train_idx, val_idx = train_test_split(
        np.arange(len(labels)), test_size=validation_fraction, random_state=seed, stratify=labels
    )
    return np.sort(train_idx), np.sort(val_idx)


NoiseKind = Literal["gaussian", "salt_and_pepper", "masking"]


def add_noise(x: np.ndarray, kind: NoiseKind, factor: float, rng: np.random.Generator) -> np.ndarray:
    """Corrupt images in [0, 1] (denoising autoencoders, Vincent et al. 2008).

    - ``gaussian``: ``clip(x + factor * N(0, 1), 0, 1)``;
    - ``salt_and_pepper``: a fraction ``factor`` of the pixels set to 0 or 1, equally likely;
    - ``masking``: a fraction ``factor`` of the pixels set to 0.

    Returns a new float32 array; ``x`` is not modified.
    """
    if factor < 0 or (kind != "gaussian" and factor > 1):
        raise ValueError(f"noise factor={factor}: expected >= 0 (and <= 1 for {kind!r}).")
    if kind == "gaussian":
        noisy = x + np.float32(factor) * rng.standard_normal(x.shape, dtype=np.float32)
        return np.clip(noisy, 0.0, 1.0, out=noisy)
    noisy = x.astype(np.float32, copy=True)
    hit = rng.random(x.shape, dtype=np.float32) < factor
    if kind == "masking":
        noisy[hit] = 0.0
    elif kind == "salt_and_pepper":
        noisy[hit] = (rng.random(int(hit.sum()), dtype=np.float32) < 0.5).astype(np.float32)
    else:
        raise ValueError(f"Unknown noise kind {kind!r}; expected 'gaussian', 'salt_and_pepper' or 'masking'.")
    return noisy
