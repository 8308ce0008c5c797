"""The trainer's typed settings: how a model is fitted (:class:`TrainingConfig`) and how
an ensemble's members run (:class:`EnsembleConfig`).

Kedro builds these from the ``training`` block of a task's parameters before a run
starts, so a bad value stops the run with the field named, before any data is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnsembleConfig(_Config):
    """Several members trained from seeds derived from the run's seed, predicting as one
    model (``models.Ensemble``); with more than one member they train in parallel as
    tasks on Ray (``autoencoder_pipelines.training.ensemble``)."""

    members: int = Field(default=1, ge=1, description="members trained; 1: one model, trained in the run's process")
    cpus_per_member: int = Field(
        default=1, ge=1, description="CPUs Ray reserves for a member, and the threads its TensorFlow/JAX may use"
    )
    gpus_per_member: float = Field(
        default=0.0,
        ge=0,
        description="GPUs Ray gives a member (0.5: two members share one); Ray hides GPUs from a member given none",
    )
    max_retries: int = Field(
        default=3, ge=0, description="times a member whose worker died is started again (it resumes from its backup)"
    )
    worker_output: bool = Field(
        default=False,
        description="also print each member's own output (Keras' epoch lines, its logs) on this terminal, "
        "interleaved; the live view of the members is shown either way",
    )


class TrainingConfig(_Config):
    """How a model is fitted; shared by every pipeline's training node."""

    seed: int = Field(ge=0, description="seeds Python, NumPy, the Keras backend and the sampling noise")
    epochs: int = Field(gt=0)
    batch_size: int = Field(gt=0, description="global batch size (split across GPUs)")
    learning_rate: float = Field(gt=0)
    lr_decay: float = Field(
        default=1.0, gt=0, le=1, description="learning rate multiplied by this after every epoch (1: constant)"
    )
    weight_decay: float = Field(default=0.0, ge=0, description="decoupled weight decay (AdamW) when > 0")
    patience: int = Field(gt=0, description="epochs without improvement of `monitor` before stopping")
    monitor: str = Field(
        default="val_loss",
        pattern=r"^val_(\w+_)?loss$",
        description="the validation loss of the training history to minimise (val_loss or a term of it): early stopping, the weights it "
        "restores, the restarts' choice, an ensemble's lead member and the best epoch reported follow it "
        "(e.g. val_classification_loss for a classifier whose val_loss is mostly its KL term)",
    )
    min_delta: float = Field(default=0.0, ge=0)
    mixed_precision: bool | Literal["float16", "bfloat16"] = Field(
        default=False,
        description="compute in 16 bits, weights kept in float32: float16 (true; GPUs, with loss scaling) or "
        "bfloat16 (CPUs with AVX512-BF16 or AMX, and recent GPUs); false: float32",
    )
    jit_compile: bool | Literal["auto"] = Field(
        default="auto",
        description="XLA-compile the train step; auto: Keras decides (XLA on JAX and on TensorFlow GPUs, not on TensorFlow CPUs)",
    )
    run_eagerly: bool = Field(
        default=False,
        description="train step run eagerly, not compiled: for debugging, and for tiny runs (conf/test) where tracing the "
        "compiled step costs more than the training",
    )
    backup_dir: Path = Field(description="per-epoch backups; a killed run resumes from here")
    verbose: Literal[0, 1, 2] = Field(default=2, description="Keras fit output: 1 bar, 2 a line per epoch")
    deterministic: bool = Field(default=True, description="deterministic ops (TensorFlow op determinism; XLA's on JAX GPUs)")
    restarts: int = Field(
        default=1, ge=1, description="initialisations tried; the lowest validation loss after restart_epochs goes on"
    )
    restart_epochs: int = Field(default=10, gt=0, description="epochs each restart trains before one is chosen")
    ensemble: EnsembleConfig = Field(default_factory=EnsembleConfig, description="members trained and averaged")

    @model_validator(mode="after")
    def _restarts_end_before_training(self):
        if self.restarts > 1 and self.restart_epochs >= self.epochs:
            raise ValueError(f"restart_epochs ({self.restart_epochs}) must be below epochs ({self.epochs}) when restarts > 1")
        return self

    @property
    def dtype_policy(self) -> str:
        """The Keras dtype policy models are built under: ``float32``, ``mixed_float16`` or
        ``mixed_bfloat16``."""
        if self.mixed_precision is False:
            return "float32"
        return "mixed_bfloat16" if self.mixed_precision == "bfloat16" else "mixed_float16"
