"""Typed preprocessing parameters, validated by Kedro before a run starts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from autoencoder_pipelines.data.cmapss import DEFAULT_SENSORS, SENSOR_COLUMNS


class CMAPSSConfig(BaseModel):
    """How C-MAPSS files become model windows (``params:rul_vae.data``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subset: Literal["FD001", "FD002", "FD003", "FD004"]
    sensors: tuple[str, ...] | None = Field(
        default=None, description="sensor columns; null = the paper's choice for the subset"
    )
    window: int = Field(ge=2, description="cycles per window")
    max_rul: float = Field(gt=0, description="cap of the piecewise-linear RUL target")
    smoothing_alpha: float = Field(gt=0, le=1, description="exponential smoothing factor")
    validation_fraction: float = Field(gt=0, lt=1, description="share of training engines for validation")
    split_seed: int = Field(ge=0)
    mask_value: float = Field(description="pads test engines shorter than the window")
    verify_checksums: bool = Field(
        default=True, description="check files against the published sha256 sums where known"
    )

    @field_validator("sensors")
    @classmethod
    def _known_sensors(cls, sensors):
        if sensors is not None:
            unknown = [s for s in sensors if s not in SENSOR_COLUMNS]
            if unknown or not sensors:
                raise ValueError(
                    f"unknown sensors {unknown}; expected a non-empty list from s_1 ... s_21"
                )
        return sensors

    @property
    def sensor_columns(self) -> tuple[str, ...]:
        return self.sensors if self.sensors is not None else DEFAULT_SENSORS[self.subset]


class MNISTIngestionConfig(BaseModel):
    """How the MNIST files are read (``params:mnist``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verify_checksums: bool = Field(description="md5 of the decompressed IDX files against the published sums")


class MNISTDataConfig(BaseModel):
    """How one pipeline prepares MNIST (``params:<pipeline>.data``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    layout: Literal["flat", "image"] = Field(description="flat: (n, 784) for dense models; image: (n, 28, 28, 1)")
    validation_fraction: float = Field(gt=0, lt=1, description="share of the training images held out")
    split_seed: int = Field(ge=0)


class NoiseConfig(BaseModel):
    """The corruption of the denoising study (``params:<pipeline>.noise``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["gaussian", "salt_and_pepper", "masking"]
    factor: float = Field(ge=0, description="std (gaussian) or fraction of pixels hit (the others)")
    seed: int = Field(ge=0)
    train_copies: int = Field(
        default=1, gt=0, description="noisy copies of each training image, each with its own noise draw"
    )

    @field_validator("factor")
    @classmethod
    def _fraction(cls, value: float, info):
        if info.data.get("kind") != "gaussian" and value > 1:
            raise ValueError(f"factor={value} is a fraction of pixels for {info.data.get('kind')!r}: expected <= 1.")
        return value
