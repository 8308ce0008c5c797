"""Builders of the named functional sub-networks (encoders, decoders, heads).

Each returns a ``keras.Model`` built from its ``Input``, so a model made of them is
built at construction and saves its weights even when only trained through ``fit``.
"""

from __future__ import annotations

import math

import keras
from keras import layers


def build_dense_encoder(
    input_shape: tuple[int, ...],
    hidden_units: tuple[int, ...],
    hidden_activation: str,
    outputs: dict[str, tuple[int, str]],
    name: str = "encoder",
) -> keras.Model:
    """Flatten -> Dense hidden layers -> one Dense head per entry of ``outputs``.

    Args:
        outputs: ``{name: (units, activation)}``; one output gives a single tensor,
            several a list in that order (e.g. ``z_mean`` and ``z_log_var``).
    """
    inputs = keras.Input(input_shape, name="image")
    hidden = layers.Flatten(name="flatten")(inputs)  # (B, H*W*C)
    for i, units in enumerate(hidden_units):
        hidden = layers.Dense(units, activation=hidden_activation, name=f"hidden_{i}")(hidden)
    heads = [layers.Dense(units, activation=act, name=head, dtype="float32")(hidden) for head, (units, act) in outputs.items()]
    return keras.Model(inputs, heads[0] if len(heads) == 1 else heads, name=name)


def build_dense_decoder(
    latent_dim: int,
    hidden_units: tuple[int, ...],
    hidden_activation: str,
    output_shape: tuple[int, ...],
    output_activation: str | None,
    name: str = "decoder",
) -> keras.Model:
    """Latent code -> Dense hidden layers -> one value per pixel, reshaped to ``output_shape``."""
    z = keras.Input((latent_dim,), name="z")
    hidden = z
    for i, units in enumerate(hidden_units):
        hidden = layers.Dense(units, activation=hidden_activation, name=f"hidden_{i}")(hidden)
    flat = layers.Dense(math.prod(output_shape), activation=output_activation, name="pixels", dtype="float32")(hidden)
    return keras.Model(z, layers.Reshape(output_shape, name="image", dtype="float32")(flat), name=name)


def check_conv_shape(input_shape: tuple[int, ...], filters: tuple[int, ...]) -> tuple[int, int]:
    """Spatial size after ``len(filters)`` stride-2 convolutions; raises if it is not exact."""
    if len(input_shape) != 3:
        raise ValueError(f"Convolutional models take (height, width, channels) images, got input_shape={input_shape}.")
    factor = 2 ** len(filters)
    height, width = input_shape[0], input_shape[1]
    if height % factor or width % factor:
        raise ValueError(
            f"input_shape={input_shape}: height and width must be divisible by 2**len(filters)={factor} "
            "so the decoder's transposed convolutions restore the size."
        )
    return height // factor, width // factor


def build_conv_stack(input_shape: tuple[int, ...], filters: tuple[int, ...]) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """``Input`` -> stride-2 3x3 ReLU convolutions; returns ``(inputs, features)``."""
    inputs = keras.Input(input_shape, name="image")
    hidden = inputs
    for i, channels in enumerate(filters):
        hidden = layers.Conv2D(channels, 3, strides=2, padding="same", activation="relu", name=f"conv_{i}")(hidden)
    return inputs, hidden  # (B, H / 2^n, W / 2^n, filters[-1])


def build_deconv_stack(features, filters: tuple[int, ...], channels: int, output_activation: str | None):
    """Stride-2 3x3 ReLU transposed convolutions (``filters`` reversed) -> ``channels`` maps."""
    hidden = features
    for i, width in enumerate(reversed(filters)):
        hidden = layers.Conv2DTranspose(width, 3, strides=2, padding="same", activation="relu", name=f"deconv_{i}")(hidden)
    return layers.Conv2DTranspose(channels, 3, padding="same", activation=output_activation, name="pixels", dtype="float32")(
        hidden
    )
