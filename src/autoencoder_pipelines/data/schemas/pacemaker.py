"""Pacemaker episode logs: one row per AF episode, ``patient`` (a whole-number id),
``start`` and ``end`` in days since the record began, ``record_days`` (the record's
length). A patient without episodes is one row with ``start`` and ``end`` empty."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.pandas as pa

from autoencoder_pipelines.data.pacemaker import (
    EPISODE_LOG_COLUMNS,
    PacemakerValidationError,
)
from autoencoder_pipelines.data.schemas.common import (
    FINITE,
    INTEGER,
    MEANING,
    missing_columns,
    not_infinite,
    number,
    required_columns,
    run_schema,
)


def _one_episode_per_row(frame: pd.DataFrame) -> pd.Series:
    """``start`` and ``end`` both given (an episode, ``start <= end <= record_days``) or
    both empty (a patient without episodes)."""
    start, end = frame["start"].to_numpy(np.float64), frame["end"].to_numpy(np.float64)
    empty = np.isnan(start) & np.isnan(end)
    inside = start <= end
    if "record_days" in frame.columns:
        inside &= end <= frame["record_days"].to_numpy(np.float64)
    return pd.Series(empty | inside, index=frame.index)


ONE_EPISODE_PER_ROW = pa.Check(_one_episode_per_row, name="episode_inside_record")
MEANING["episode_inside_record"] = (
    "is not an episode: expected 0 <= start <= end <= record_days, or start and end both empty (a patient without episodes)"
)


def _one_class_per_patient(frame: pd.DataFrame) -> pd.Series:
    """Every row of a patient carries the same class."""
    classes = frame.groupby("patient")["class"].transform("nunique")
    return pd.Series(classes.to_numpy() == 1, index=frame.index)


ONE_CLASS_PER_PATIENT = pa.Check(_one_class_per_patient, name="one_class_per_patient")
MEANING["one_class_per_patient"] = "gives its patient another class than the patient's other rows"


@lru_cache(maxsize=8)
def episode_log_schema(
    days: int | None = None, with_record_days: bool = False, n_classes: int | None = None
) -> pa.DataFrameSchema:
    """Pacemaker episode logs: one row per AF episode, ``patient`` (an integer id),
    ``start`` and ``end`` in days since the record began, ``record_days`` (the record's
    length; required ``with_record_days``, as in logs to score). A patient without
    episodes is one row with ``start`` and ``end`` empty. With ``days`` (a model's record
    length), ``record_days`` is required and must equal it. With ``n_classes`` the logs are
    labelled: ``class``, a whole number below ``n_classes``, the same on all of a
    patient's rows."""
    record_checks = [FINITE, INTEGER, pa.Check.gt(0)]
    if days is not None:
        record_checks.append(pa.Check.eq(days))  # the model's record length
    day = [pa.Check(not_infinite, name="finite"), pa.Check.ge(0)]
    columns = {
        "patient": number([FINITE, INTEGER, pa.Check.ge(0)]),
        "start": number(day, nullable=True),
        "end": number(day, nullable=True),
        "record_days": number(record_checks, required=with_record_days or days is not None),
    }
    checks = [ONE_EPISODE_PER_ROW]
    if n_classes is not None:
        columns["class"] = number([FINITE, INTEGER, pa.Check.ge(0), pa.Check.le(n_classes - 1)])
        checks.append(ONE_CLASS_PER_PATIENT)
    return pa.DataFrameSchema(columns, checks=checks, strict=False, name="pacemaker episode log")


def validate_episode_log(
    frame: pd.DataFrame, name: str, days: int | None = None, with_record_days: bool = False, n_classes: int | None = None
) -> pd.DataFrame:
    """``frame`` checked as episode logs (:func:`episode_log_schema`), in its episode-log
    columns (others dropped), ``patient`` (and ``record_days``, ``class``) as integers.

    Raises:
        PacemakerValidationError: listing the problems.
    """
    schema = episode_log_schema(days, with_record_days, n_classes)
    if not isinstance(frame, pd.DataFrame):
        raise PacemakerValidationError(
            f"{name}: expected a table with the columns {required_columns(schema)}, got {type(frame).__name__}."
        )
    missing = missing_columns(schema, frame)
    if missing:
        raise PacemakerValidationError(f"{name}: missing columns {missing}; expected {required_columns(schema)}.")
    if frame.empty:
        raise PacemakerValidationError(f"{name}: no rows; expected at least one patient.")
    known = [c for c in (*EPISODE_LOG_COLUMNS, *(["class"] if n_classes else [])) if c in frame.columns]
    checked = run_schema(schema, frame[known].reset_index(drop=True), name, PacemakerValidationError, _patient_row)
    return checked.astype({c: np.int64 for c in ("patient", "record_days", "class") if c in checked.columns})


def _patient_row(frame: pd.DataFrame, row: int) -> str:
    try:
        patient = float(frame["patient"].iloc[row])
    except (TypeError, ValueError):
        return ""
    return f" (patient {patient:g})" if np.isfinite(patient) else ""
