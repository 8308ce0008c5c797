"""Typed, validated configurations of the models and of training.

Kedro builds these from the parameters files before a run starts (node parameters
typed with them), so a bad value stops the run with the field named, before any data
is read. Values live in ``conf/``; defaults here are only the universal ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecurrentVAEArchitecture(_Config):
    """The hyperparameters of :class:`RecurrentVAE` chosen in the parameters files."""

    lstm_units: int = Field(gt=0, description="units of each LSTM direction")
    latent_dim: int = Field(default=2, gt=0)
    regressor_units: int = Field(gt=0, description="units of the regressor's tanh layer")
    decoder: bool = Field(default=False, description="add an LSTM decoder and its reconstruction loss")
    kl_weight: float = Field(default=1.0, ge=0)
    reconstruction_weight: float = Field(default=1.0, ge=0)
    input_noise: float = Field(default=0.0, ge=0, description="std of Gaussian noise added to inputs in training")
    encoder_dropout: float = Field(default=0.0, ge=0, lt=1, description="dropout on the BiLSTM output in training")


class RecurrentVAEConfig(RecurrentVAEArchitecture):
    """Everything :class:`RecurrentVAE` is built from: the architecture plus what the
    data decides (window shape, padding value) and the seed of the sampling noise."""

    window: int = Field(gt=0, description="time steps per input window")
    n_features: int = Field(gt=0, description="sensors per time step")
    mask_value: float = Field(description="padding value skipped by the Masking layer")
    seed: int | None = Field(default=None, description="seed of the sampling noise")
    rul_bias: float = Field(
        default=0.0, description="initial bias of the RUL output; the mean training RUL starts the fit near the answer"
    )


class TrainingConfig(_Config):
    """How a model is fitted; shared by every pipeline's training node."""

    seed: int = Field(ge=0, description="seeds Python, NumPy, TensorFlow and the sampling noise")
    epochs: int = Field(gt=0)
    batch_size: int = Field(gt=0, description="global batch size (split across GPUs)")
    learning_rate: float = Field(gt=0)
    lr_decay: float = Field(
        default=1.0, gt=0, le=1, description="learning rate multiplied by this after every epoch (1: constant)"
    )
    patience: int = Field(gt=0, description="epochs without val_loss improvement before stopping")
    min_delta: float = Field(default=0.0, ge=0)
    mixed_precision: bool = Field(default=False, description="mixed_float16 compute (GPUs)")
    jit_compile: bool = Field(default=False, description="XLA-compile the train step")
    backup_dir: Path = Field(description="per-epoch backups; a killed run resumes from here")
    verbose: Literal[0, 1, 2] = Field(default=2, description="Keras fit output: 1 bar, 2 a line per epoch")
    deterministic: bool = Field(default=True, description="TensorFlow deterministic ops")
