"""Typed preprocessing parameters, validated by Kedro before a run starts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from autoencoder_pipelines.data.cmapss import DEFAULT_SENSORS, SENSOR_COLUMNS


class CMAPSSConfig(BaseModel):
    """How C-MAPSS files become model windows (``params:rul_vae.data``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subset: Literal["FD001", "FD002", "FD003", "FD004"]
    sensors: tuple[str, ...] | None = Field(default=None, description="sensor columns; null = the paper's choice for the subset")
    window: int = Field(ge=2, description="cycles per window")
    max_rul: float = Field(gt=0, description="cap of the piecewise-linear RUL target")
    capped_window_weight: float = Field(
        default=1.0, gt=0, description="training-loss weight of the windows whose RUL is at the cap (1: all equal)"
    )
    validation_capped_weight: float = Field(
        default=1.0,
        ge=0,
        description="weight of the validation windows at the cap in the validation loss that early stopping and "
        "restarts monitor (0: only the windows before the cap count)",
    )
    smoothing_alpha: float = Field(gt=0, le=1, description="exponential smoothing factor")
    validation_fraction: float = Field(gt=0, lt=1, description="share of training engines for validation")
    split_seed: int = Field(ge=0)
    mask_value: float = Field(description="pads test engines shorter than the window")
    verify_checksums: bool = Field(default=True, description="check files against the published sha256 sums where known")

    @field_validator("sensors")
    @classmethod
    def _known_sensors(cls, sensors):
        if sensors is not None:
            unknown = [s for s in sensors if s not in SENSOR_COLUMNS]
            if unknown or not sensors:
                raise ValueError(f"unknown sensors {unknown}; expected a non-empty list from s_1 ... s_21")
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
    train_copies: int = Field(default=1, gt=0, description="noisy copies of each training image, each with its own noise draw")

    @field_validator("factor")
    @classmethod
    def _fraction(cls, value: float, info):
        if info.data.get("kind") != "gaussian" and value > 1:
            raise ValueError(f"factor={value} is a fraction of pixels for {info.data.get('kind')!r}: expected <= 1.")
        return value


class PacemakerSimulationConfig(BaseModel):
    """The simulated pacemaker logs of ``af_rvae`` (``params:af_rvae.simulation``).

    One class per pair of the grid ``beta_na x alpha`` (the study: 3 x 2 = 6 classes).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    patients_per_class: int = Field(gt=0, description="the study: 11,200")
    days: int = Field(gt=0, description="length of each record (ten years: 3650)")
    beta_na: tuple[float, ...] = Field(min_length=1, description="mean days from normal rhythm to AF")
    alpha: tuple[float, ...] = Field(min_length=1, description="per-day factor of the episode-ending rate, in (0, 1]")
    seed: int = Field(ge=0)

    @field_validator("beta_na")
    @classmethod
    def _positive(cls, values: tuple[float, ...]):
        bad = [v for v in values if not v > 0]
        if bad:
            raise ValueError(f"beta_na values {bad}: expected positive mean times to AF, in days.")
        return values

    @field_validator("alpha")
    @classmethod
    def _in_unit_interval(cls, values: tuple[float, ...]):
        bad = [v for v in values if not 0 < v <= 1]
        if bad:
            raise ValueError(f"alpha values {bad}: expected values in (0, 1].")
        return values

    @property
    def classes(self) -> list[tuple[float, float]]:
        """``(beta_na, alpha)`` of each class, class ``k`` at index ``k``."""
        return [(b, a) for b in self.beta_na for a in self.alpha]


class AFSeriesConfig(BaseModel):
    """From daily AF burden to model inputs (``params:af_rvae.series``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fwhm_days: float = Field(gt=0, description="full width at half maximum of the Gaussian smoothing")
    block_days: int = Field(gt=0, description="the series is the mean of each block of this many days")
    validation_fraction: float = Field(gt=0, lt=1)
    test_fraction: float = Field(gt=0, lt=1)
    split_seed: int = Field(ge=0)
