"""A sweep's space against the task: every swept path is a parameter the trial's slice
reads, and every value one its typed parameters accept, checked before any trial runs."""

from __future__ import annotations

import copy
from typing import Any

from kedro.pipeline import Pipeline
from pydantic import BaseModel

from autoencoder_pipelines.pipelines.sweep.config import SweepConfig


def _plain(value: Any) -> Any:
    """Typed (pydantic) parameters back to plain values, recursively."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def lookup(tree: dict, path: str) -> Any:
    """The value at a dotted ``path`` of nested dicts or typed parameters."""
    node = tree
    for part in path.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def override(parameters: dict, values: dict[str, Any]) -> dict:
    """``parameters`` with each dotted path of ``values`` set (a deep copy)."""
    result = copy.deepcopy(_plain(parameters))
    for path, value in values.items():
        *parents, leaf = path.split(".")
        node = result
        for part in parents:
            node = node[part]
        node[leaf] = value
    return result


def check_space(sweep: SweepConfig, parameters: dict, trial: Pipeline, task: str) -> None:
    """Every searched or fixed path is an existing parameter that the trial's nodes read,
    and every trial trains one model; raised before any trial starts, naming the path."""
    read = {name.removeprefix("params:") for name in trial.inputs() if name.startswith("params:")}
    plain = _plain(parameters)
    for path in [*sweep.domains, *sweep.fixed]:
        where = "Sweep space" if path in sweep.domains else "Sweep fixed"
        try:
            lookup(plain, path)
        except (KeyError, TypeError, AttributeError):
            raise ValueError(f"{where}: {path!r} is not a parameter of this project (conf/*/parameters*.yml).") from None
        if not any(path == block or path.startswith(f"{block}.") for block in read):
            raise ValueError(
                f"{where}: {path!r} is not read by the trial's preprocessing or training "
                f"(they read {sorted(read)}); ingestion and evaluation settings cannot be searched."
            )
    # A trial holds its CPUs while it waits for its members' Ray tasks: ensembles inside
    # trials could wait for each other forever.
    members = f"{task}.training.ensemble.members"
    domain = sweep.domains.get(members)
    if members in sweep.fixed:
        values = [sweep.fixed[members]]
    elif domain is None:
        try:
            values = [lookup(plain, members)]
        except (KeyError, TypeError, AttributeError):
            values = [1]  # no ensemble block: models.config.EnsembleConfig's default, one member
    else:
        values = domain.grid or domain.choice or [list(getattr(domain, domain.kind))]
    if any(v != 1 for v in values):
        raise ValueError(
            f"Sweep: the trials would train {members} = {values} models each; a trial trains one model "
            f"(set `fixed: {{{members}: 1}}` in the sweep's parameters). Seeds go in the space instead."
        )
    _check_values(sweep, parameters, trial)


def _check_values(sweep: SweepConfig, parameters: dict, trial: Pipeline) -> None:
    """The fixed values, and each value of each domain with them (grids and choices: every
    value; ranges: both bounds), pass the typed validation of the trial's parameters, as
    each trial's will; the first that does not stops the sweep before any trial."""
    from kedro.validation.parameter_validator import (  # noqa: PLC0415
        ParameterValidationError,
        ParameterValidator,
    )

    validator = ParameterValidator({"trial": trial})

    def error(values: dict) -> str | None:
        try:
            validator.validate_raw_params(override(parameters, values))
        except ParameterValidationError as failed:
            return str(failed)
        return None

    if error({}) is not None:
        return  # parameters that are not the project's whole set (Kedro validated the run's own at its start)
    if reason := error(sweep.fixed):
        raise ValueError(f"Sweep fixed: {sweep.fixed} fails the trial's parameter validation: {reason}")
    for path, domain in sweep.domains.items():
        if domain.kind in ("grid", "choice"):
            values = getattr(domain, domain.kind)
        else:
            low, high = getattr(domain, domain.kind)
            values = [low, high - 1] if domain.kind == "randint" else [low, high]
        for value in values:
            if reason := error({**sweep.fixed, path: value}):
                raise ValueError(f"Sweep space: {path} = {value!r} fails the trial's parameter validation: {reason}")
