"""The typed settings of a sweep (``conf/base/parameters_<task>_sweep.yml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Domain(BaseModel):
    """One searched parameter and where it is searched: exactly one of the domain fields.

    ``grid``: every value, in every combination with the other grids (``search: grid``);
    ``choice``: one of the values; ``uniform`` / ``loguniform``: ``[low, high]``;
    ``randint``: ``[low, high)`` integers.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    parameter: str = Field(description="dotted path of a parameter, e.g. rul_vae.model.kl_weight")
    grid: list[Any] | None = None
    choice: list[Any] | None = None
    uniform: tuple[float, float] | None = None
    loguniform: tuple[float, float] | None = None
    randint: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        given = [k for k in ("grid", "choice", "uniform", "loguniform", "randint") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of grid, choice, uniform, loguniform, randint; got {given or 'none'}")
        if (self.grid is not None and not self.grid) or (self.choice is not None and not self.choice):
            raise ValueError("a grid or choice needs at least one value")
        for kind in ("uniform", "loguniform", "randint"):
            bounds = getattr(self, kind)
            if bounds is not None and not bounds[0] < bounds[1]:
                raise ValueError(f"{kind}: low must be below high; got {list(bounds)}")
        if self.loguniform is not None and self.loguniform[0] <= 0:
            raise ValueError(f"loguniform: bounds must be positive; got {list(self.loguniform)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("grid", "choice", "uniform", "loguniform", "randint") if getattr(self, k) is not None)


class SweepConfig(BaseModel):
    """A search over a task's parameters, run by ``kedro run --pipeline=<task>_sweep``.

    Every trial trains the task (its preprocessing and training stages) with the
    parameters overridden by the trial's values, and is scored on **validation** data
    only: ``metric`` is a key of the training history, read at the epoch early stopping
    kept (the lowest ``training.monitor``, ``val_loss`` unless set). The test set is never read.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # A list, not a mapping: an environment's sweep (conf/test) replaces the whole space
    # rather than merging its parameters into the base one's.
    space: list[Domain] = Field(description="the searched parameters and their domains", min_length=1)
    fixed: dict[str, Any] = Field(
        default_factory=dict,
        description="values every trial uses, by dotted parameter path (e.g. one ensemble member per trial)",
    )
    search: Literal["grid", "optuna"] = Field(
        default="grid", description="grid: every combination of the grids; optuna: Optuna's TPE sampler"
    )
    metric: str = Field(default="val_loss", description="a validation key of the training history, e.g. val_regression_loss")
    mode: Literal["min", "max"] = "min"
    num_samples: int = Field(default=1, ge=1, description="optuna: trials; grid: times the whole grid is repeated")
    time_budget_s: float | None = Field(
        default=None,
        gt=0,
        description="the search ends after this many seconds; trials still running are stopped (status incomplete)",
    )
    max_concurrent_trials: int | None = Field(default=None, ge=1, description="None: as many as the CPUs allow")
    cpus_per_trial: int = Field(default=1, ge=1, description="CPUs Ray reserves for a trial, and its compute threads")
    gpus_per_trial: float = Field(
        default=0.0, ge=0, description="GPUs Ray gives a trial (Ray hides GPUs from a trial given none)"
    )
    seed: int = Field(default=0, ge=0, description="the search algorithm's seed (Optuna)")
    worker_output: bool = Field(
        default=False,
        description="also print Ray Tune's status tables and each trial's own output (its Kedro and Keras lines) "
        "on this terminal, interleaved; the live view of the trials is shown either way",
    )
    storage_dir: Path = Field(description="Ray Tune's trial records (made absolute)")

    @property
    def domains(self) -> dict[str, Domain]:
        """The space by parameter path."""
        return {d.parameter: d for d in self.space}

    @model_validator(mode="after")
    def _space_fits_the_search(self):
        paths = [d.parameter for d in self.space]
        if len(set(paths)) != len(paths):
            raise ValueError(f"space: a parameter appears twice in {paths}")
        if both := sorted(set(paths) & set(self.fixed)):
            raise ValueError(f"fixed: {both} are also in the space; a parameter is either searched or fixed")
        for path, domain in self.domains.items():
            if self.search == "grid" and domain.kind != "grid":
                raise ValueError(f"space.{path}: search 'grid' takes grid domains only; got {domain.kind}")
            if self.search == "optuna" and domain.kind == "grid":
                raise ValueError(f"space.{path}: search 'optuna' takes choice/uniform/loguniform/randint; got grid")
            values = domain.choice or []
            if self.search == "optuna" and any(not isinstance(v, (str, int, float, bool, type(None))) for v in values):
                raise ValueError(
                    f"space.{path}: Optuna chooses among scalars (str, int, float, bool, null); "
                    "a list value (e.g. a sensor set) needs search: grid"
                )
        return self
