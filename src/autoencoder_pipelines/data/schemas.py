"""The input formats, declared once each: C-MAPSS engine logs, pacemaker episode logs
and MNIST images.

The two tables are pandera schemas (:func:`engine_log_schema`, :func:`episode_log_schema`);
the images, grids of grey levels rather than tables, are checked by
:func:`validate_images`. The same declaration is used wherever such data enters:

- the catalog: the parsed files declare ``validator:`` with :class:`EngineLogValidator`
  or :class:`EpisodeLogValidator` (``conf/base/catalog.yml``), so Kedro checks them when
  the ingestion node saves them, before any later node runs;
- ``rul_inference`` / ``af_inference``, through the same catalog validators;
- the served models (``serving``), on every request.

A refused input raises the format's error (``CMAPSSValidationError``,
``PacemakerValidationError``, ``MNISTValidationError``) with one line per problem, up to
:data:`SHOWN`: the file or request, the row (counted from 1, a header not counted, with
the engine's unit and cycle or the patient), the column and the check, e.g.::

    request: row 3 (unit 1, cycle 3), column 's_4': 1e+308 is outside the engine envelope
    [919.6, 1545.5] (in_range)

Physical ranges: every operating setting and sensor must lie inside the envelope of the
C-MAPSS data, widened by :data:`ENVELOPE_MARGIN` of its span on each side (the table and
its sources: :data:`ENVELOPE`). The envelope is the format's, for all four fleets; whether
an engine resembles the ones a model was trained on is the model's out-of-distribution
flag (``monitoring``), not the schema's.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from autoencoder_pipelines.data.cmapss import (
    COLUMNS,
    INDEX_COLUMNS,
    RUL_COLUMN,
    SENSOR_COLUMNS,
    SETTING_COLUMNS,
    CMAPSSValidationError,
)
from autoencoder_pipelines.data.mnist import MNISTValidationError
from autoencoder_pipelines.data.pacemaker import EPISODE_LOG_COLUMNS, PacemakerValidationError

SHOWN = 5  # problems listed in a message; the count of the others follows

# Minimum and maximum of each column over the C-MAPSS training files FD001, FD002 and FD004
# (sensors: train_FD001.txt computed here; FD002 and FD004 from the describe() tables of
# SundareshPrasanna/QM640_transfer_learning_in_pdm, results/data_description_report.md).
# The operating settings: the envelope of Saxena et al. 2008, section V.D (altitude
# 0-42 kft, Mach 0-0.84, throttle resolver angle 20-100), FD001's noise around 0 included.
ENVELOPE: dict[str, tuple[float, float]] = {
    "setting_1": (-0.0087, 42.0),
    "setting_2": (-0.0006, 0.84),
    "setting_3": (20.0, 100.0),
    "s_1": (445.0, 518.67),
    "s_2": (535.48, 644.53),
    "s_3": (1242.67, 1616.91),
    "s_4": (1023.77, 1441.49),
    "s_5": (3.91, 14.62),
    "s_6": (5.67, 21.61),
    "s_7": (136.17, 570.81),
    "s_8": (1914.72, 2388.64),
    "s_9": (7984.51, 9244.59),
    "s_10": (0.93, 1.32),
    "s_11": (36.04, 48.53),
    "s_12": (128.31, 537.49),
    "s_13": (2027.57, 2390.49),
    "s_14": (7845.78, 8293.72),
    "s_15": (8.176, 11.067),
    "s_16": (0.02, 0.03),
    "s_17": (302.0, 400.0),
    "s_18": (1914.0, 2388.0),
    "s_19": (84.93, 100.0),
    "s_20": (10.16, 39.89),
    "s_21": (6.011, 23.885),
}
ENVELOPE_MARGIN = 0.25  # each bound moved out by this share of the column's span


def envelope(column: str) -> tuple[float, float]:
    """The accepted range of a setting or sensor: :data:`ENVELOPE` widened by the margin."""
    low, high = ENVELOPE[column]
    margin = ENVELOPE_MARGIN * (high - low)
    return round(low - margin, 4), round(high + margin, 4)


def _finite(values: pd.Series) -> pd.Series:
    return pd.Series(np.isfinite(values.to_numpy(np.float64)), index=values.index)


def _not_infinite(values: pd.Series) -> pd.Series:  # an optional value: empty, or finite
    return pd.Series(~np.isinf(values.to_numpy(np.float64)), index=values.index)


def _integer(values: pd.Series) -> pd.Series:
    numbers = values.to_numpy(np.float64)
    return pd.Series(np.isfinite(numbers) & (numbers == np.round(numbers)), index=values.index)


FINITE = pa.Check(_finite, name="finite")
INTEGER = pa.Check(_integer, name="integer")

# What each check's failure means, by the check's name as pandera reports it.
_MEANING = {
    "finite": "is not a finite number",
    "integer": "is not a whole number",
    "coerce_dtype": "is not a number",
    "dtype": "is not a number",
    "not_nullable": "is missing (NaN or an empty field)",
    "greater_than_or_equal_to": "is below {0}",
    "greater_than": "is not above {0}",
    "equal_to": "is not {0}",
    "in_range": "is outside the envelope [{0}, {1}]",
}


def _number(checks: list[pa.Check], *, required: bool = True, nullable: bool = False) -> pa.Column:
    return pa.Column("float64", checks, coerce=True, required=required, nullable=nullable)


def _in_envelope(column: str) -> pa.Check:
    return pa.Check.in_range(*envelope(column))


# --- C-MAPSS engine logs ----------------------------------------------------------------


def _cycles_count_up(frame: pd.DataFrame) -> pd.Series:
    """Each row's cycle is 1 on a unit's first row, else the previous row's plus one;
    units never decrease (the rows of an engine together, engines in order)."""
    units = frame["unit_nr"].to_numpy(np.float64)
    cycles = frame["time_cycles"].to_numpy(np.float64)
    first = np.r_[True, units[1:] != units[:-1]]
    expected = np.where(first, 1.0, np.r_[0.0, cycles[:-1]] + 1.0)
    ordered = np.r_[True, units[1:] >= units[:-1]]
    return pd.Series((cycles == expected) & ordered, index=frame.index)


CYCLES_COUNT_UP = pa.Check(_cycles_count_up, name="cycles_count_up")
_MEANING["cycles_count_up"] = (
    "breaks the order: a unit's cycles count 1, 2, 3 ... on consecutive rows, units in increasing order"
)


@lru_cache(maxsize=32)
def engine_log_schema(required_sensors: tuple[str, ...] = ()) -> pa.DataFrameSchema:
    """C-MAPSS engine logs: ``unit_nr`` and ``time_cycles`` (integers from 1, cycles
    counting 1, 2, 3 ... per unit, units in order), the three operating settings and the
    sensors ``s_1`` ... ``s_21``, finite and inside the envelope. The sensors are optional
    but for ``required_sensors`` (a model's); other columns are ignored."""
    columns = {c: _number([FINITE, INTEGER, pa.Check.ge(1)]) for c in INDEX_COLUMNS}
    columns |= {c: _number([FINITE, _in_envelope(c)]) for c in SETTING_COLUMNS}
    columns |= {
        c: _number([FINITE, _in_envelope(c)], required=c in required_sensors)
        for c in SENSOR_COLUMNS
    }
    return pa.DataFrameSchema(columns, checks=[CYCLES_COUNT_UP], strict=False, name="C-MAPSS engine log")


def validate_engine_log(frame: pd.DataFrame, name: str, required: Sequence[str] = COLUMNS) -> pd.DataFrame:
    """``frame`` checked as engine logs, in the C-MAPSS columns it has (others dropped),
    ``unit_nr`` and ``time_cycles`` as integers, every other column float64.

    Args:
        frame: the logs, one row per engine and cycle.
        name: what errors call it (a file name, ``request``).
        required: the columns that must be there (the model's sensors, or all 26).

    Raises:
        CMAPSSValidationError: listing the problems (see the module's docstring).
    """
    if not isinstance(frame, pd.DataFrame):
        raise CMAPSSValidationError(
            f"{name}: expected a table with named columns (CSV with a header, or JSON "
            f"dataframe_split / dataframe_records), got {type(frame).__name__}."
        )
    known = [c for c in COLUMNS if c in frame.columns]
    if not known:
        shown = [str(c) for c in frame.columns[:8]] + (["..."] if len(frame.columns) > 8 else [])
        raise CMAPSSValidationError(
            f"{name}: the columns {shown} are not the C-MAPSS layout; expected named columns "
            f"{list(INDEX_COLUMNS + SETTING_COLUMNS)} and the sensors s_1 ... s_21."
        )
    schema = engine_log_schema(tuple(c for c in required if c in SENSOR_COLUMNS))
    missing = _missing(schema, frame)
    if missing:
        raise CMAPSSValidationError(f"{name}: missing columns {missing}; expected {_required(schema)}.")
    if frame.empty:
        raise CMAPSSValidationError(f"{name}: no rows; expected at least one cycle of one engine.")
    checked = _validate(schema, frame[known].reset_index(drop=True), name, CMAPSSValidationError, _engine_row)
    return checked.astype({c: np.int64 for c in INDEX_COLUMNS})


def _engine_row(frame: pd.DataFrame, row: int) -> str:
    try:
        unit, cycle = (float(frame[c].iloc[row]) for c in INDEX_COLUMNS)
    except (TypeError, ValueError):
        return ""
    return f" (unit {unit:g}, cycle {cycle:g})" if np.isfinite([unit, cycle]).all() else ""


RUL_SCHEMA = pa.DataFrameSchema(
    {RUL_COLUMN: _number([FINITE, INTEGER, pa.Check.ge(0)])}, name="C-MAPSS true RUL"
)


def validate_rul_table(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """True remaining useful lives (``RUL``: whole cycles, at least 0), one row per engine.

    Raises:
        CMAPSSValidationError: listing the problems.
    """
    return _validate(RUL_SCHEMA, frame.reset_index(drop=True), name, CMAPSSValidationError, lambda *_: "")


# --- pacemaker episode logs -------------------------------------------------------------


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
_MEANING["episode_inside_record"] = (
    "is not an episode: expected 0 <= start <= end <= record_days, or start and end both empty (a patient "
    "without episodes)"
)


@lru_cache(maxsize=8)
def episode_log_schema(days: int | None = None, with_record_days: bool = False) -> pa.DataFrameSchema:
    """Pacemaker episode logs: one row per AF episode, ``patient`` (an integer id),
    ``start`` and ``end`` in days since the record began, ``record_days`` (the record's
    length; required ``with_record_days``, as in logs to score). A patient without
    episodes is one row with ``start`` and ``end`` empty. With ``days`` (a model's record
    length), ``record_days`` is required and must equal it."""
    record_checks = [FINITE, INTEGER, pa.Check.gt(0)]
    if days is not None:
        record_checks.append(pa.Check.eq(days))  # the model's record length
    day = [pa.Check(_not_infinite, name="finite"), pa.Check.ge(0)]
    columns = {
        "patient": _number([FINITE, INTEGER, pa.Check.ge(0)]),
        "start": _number(day, nullable=True),
        "end": _number(day, nullable=True),
        "record_days": _number(record_checks, required=with_record_days or days is not None),
    }
    return pa.DataFrameSchema(columns, checks=[ONE_EPISODE_PER_ROW], strict=False, name="pacemaker episode log")


def validate_episode_log(
    frame: pd.DataFrame, name: str, days: int | None = None, with_record_days: bool = False
) -> pd.DataFrame:
    """``frame`` checked as episode logs (:func:`episode_log_schema`), in its episode-log
    columns (others dropped), ``patient`` (and ``record_days``) as integers.

    Raises:
        PacemakerValidationError: listing the problems.
    """
    schema = episode_log_schema(days, with_record_days)
    if not isinstance(frame, pd.DataFrame):
        raise PacemakerValidationError(
            f"{name}: expected a table with the columns {_required(schema)}, got {type(frame).__name__}."
        )
    missing = _missing(schema, frame)
    if missing:
        raise PacemakerValidationError(f"{name}: missing columns {missing}; expected {_required(schema)}.")
    if frame.empty:
        raise PacemakerValidationError(f"{name}: no rows; expected at least one patient.")
    known = [c for c in EPISODE_LOG_COLUMNS if c in frame.columns]
    checked = _validate(schema, frame[known].reset_index(drop=True), name, PacemakerValidationError, _patient_row)
    return checked.astype({c: np.int64 for c in ("patient", "record_days") if c in checked.columns})


def _patient_row(frame: pd.DataFrame, row: int) -> str:
    try:
        patient = float(frame["patient"].iloc[row])
    except (TypeError, ValueError):
        return ""
    return f" (patient {patient:g})" if np.isfinite(patient) else ""


# --- MNIST images -----------------------------------------------------------------------

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


# --- running a schema, and the messages ----------------------------------------------------


def _required(schema: pa.DataFrameSchema) -> list[str]:
    return [c for c, column in schema.columns.items() if column.required]


def _missing(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[str]:
    return [c for c in _required(schema) if c not in frame.columns]


def _validate(schema: pa.DataFrameSchema, frame: pd.DataFrame, name: str, error: type[ValueError], describe) -> pd.DataFrame:
    try:
        return schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        raise error(describe_failures(errors.failure_cases, name, frame, describe)) from None


def describe_failures(cases: pd.DataFrame, name: str, frame: pd.DataFrame, describe) -> str:
    """One line per (row, column) at fault, with its first failing check; a failed
    table-wide check (the cycle order) once per row. Values that are not numbers are
    reported alone: the other checks cannot read them."""
    not_numbers = cases["check"].astype(str).str.startswith(("coerce_dtype", "dtype"))
    if not_numbers.any():
        cases = cases[not_numbers]
    lines: dict[tuple, str] = {}
    for case in cases.itertuples():
        row = None if pd.isna(case.index) else int(case.index)
        table_wide = case.schema_context == "DataFrameSchema"
        key = (row, None if table_wide else case.column)
        if key in lines:
            continue
        where = f"row {row + 1}{describe(frame, row)}" if row is not None else "the table"
        if table_wide:
            lines[key] = f"{where}: {meaning(case.check)}"
        else:
            lines[key] = f"{where}, column {case.column!r}: {_shown(case.failure_case)} {meaning(case.check)}"
    # By row, the table's own problems last; within a row, a column's problem before the order it breaks.
    ordered = [lines[k] for k in sorted(lines, key=lambda k: (k[0] is None, k[0] or 0, k[1] is None))]
    if len(ordered) == 1:
        return f"{name}: {ordered[0]}"
    more = f"\n  ... and {len(ordered) - SHOWN} more" if len(ordered) > SHOWN else ""
    return f"{name}: {len(ordered)} problems:\n  " + "\n  ".join(ordered[:SHOWN]) + more


def meaning(check: str) -> str:
    """What a failed check means, and the check (pandera's name for it)."""
    base, _, arguments = str(check).partition("(")
    template = _MEANING.get(base)
    if template is None:
        return f"fails {check}"
    values = [a.strip() for a in arguments.rstrip(")").split(",")] if arguments else []
    return f"{template.format(*values)} ({check})"


def _shown(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "the value"
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return f"{value:g}"
    return repr(value)


# --- the catalog's validators (Kedro's `validator:`) ------------------------------------------


class EngineLogValidator:
    """Kedro catalog validator: the dataset holds engine logs from ``source`` (what errors
    call it); ``required``: the columns that must be there (default: all 26)."""

    def __init__(self, source: str, required: Sequence[str] = COLUMNS) -> None:
        self.source = source
        self.required = tuple(required)

    def validate(self, data: pd.DataFrame) -> pd.DataFrame:
        return validate_engine_log(data, self.source, self.required)


class RULTableValidator:
    """Kedro catalog validator: the true RUL of each test engine, from ``source``."""

    def __init__(self, source: str) -> None:
        self.source = source

    def validate(self, data: pd.DataFrame) -> pd.DataFrame:
        return validate_rul_table(data, self.source)


class EpisodeLogValidator:
    """Kedro catalog validator: the dataset holds pacemaker episode logs from ``source``;
    ``with_record_days``: the logs carry each record's length (logs to score do)."""

    def __init__(self, source: str, with_record_days: bool = False) -> None:
        self.source = source
        self.with_record_days = with_record_days

    def validate(self, data: pd.DataFrame) -> pd.DataFrame:
        return validate_episode_log(data, self.source, with_record_days=self.with_record_days)
