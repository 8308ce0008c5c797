"""MNIST images: integer grey levels 0..255 on a 28 x 28 grid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autoencoder_pipelines.data.mnist import MNISTValidationError

SIDE = 28


def validate_images(images, name: str) -> np.ndarray:
    """Images as ``(n, 28, 28)`` uint8 grey levels: from an array ``(n, 28, 28)``,
    ``(n, 784)`` or ``(n, 28, 28, 1)``, or a table of 784 columns (one per pixel, row by
    row), with at least one image and every value an integer in 0..255.

    A typed check rather than a frame schema: the images are pixel grids, and a problem is
    best named by its image, row and column of pixels, not by one of 784 table columns.

    Raises:
        MNISTValidationError: naming the shape, or the image and pixel at fault.
    """
    if isinstance(images, pd.DataFrame):
        if images.shape[1] != SIDE * SIDE:
            raise MNISTValidationError(
                f"{name}: a table of {images.shape[1]} columns; expected {SIDE * SIDE} (one per pixel, row by row)."
            )
        numbers = images.apply(pd.to_numeric, errors="coerce")
        bad = (numbers.isna() & images.notna()).to_numpy()
        if bad.any():
            row, column = (int(i[0]) for i in np.nonzero(bad))
            raise MNISTValidationError(
                f"{name}: column {images.columns[column]!r} of image {row + 1} holds the non-numeric value "
                f"{images.iat[row, column]!r}."
            )
        values = numbers.to_numpy(np.float64)
    else:
        try:
            values = np.asarray(images, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise MNISTValidationError(f"{name}: the images are not numeric arrays ({error}).") from None
    shape = values.shape
    if values.ndim == 4 and shape[-1] == 1:
        values = values[..., 0]
    if values.ndim == 2 and shape[1] == SIDE * SIDE:
        values = values.reshape(len(values), SIDE, SIDE)
    if values.ndim != 3 or values.shape[1:] != (SIDE, SIDE) or len(values) == 0:
        raise MNISTValidationError(
            f"{name}: images of shape {shape}; expected (n, {SIDE}, {SIDE}), (n, {SIDE * SIDE}) or (n, {SIDE}, {SIDE}, 1)."
        )
    for problem, wrong in (
        ("is missing or not finite", ~np.isfinite(values)),
        ("is outside the grey levels 0..255 (the MNIST files' scale, not [0, 1])", (values < 0) | (values > 255)),
        ("is not an integer grey level (images scaled to [0, 1] must be multiplied by 255)", values != np.round(values)),
    ):
        if wrong.any():
            image, row, column = (int(i) for i in np.argwhere(wrong)[0])
            raise MNISTValidationError(
                f"{name}: image {image + 1}, pixel (row {row}, column {column}): {values[image, row, column]:g} "
                f"{problem}; {int(wrong.any(axis=(1, 2)).sum())} image(s) have such pixels."
            )
    return values.astype(np.uint8)
