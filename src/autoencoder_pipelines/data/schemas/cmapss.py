"""C-MAPSS engine logs: their schema, the engine envelope it checks, and the true RULs.

Engine logs: ``unit_nr`` and ``time_cycles`` (whole numbers from 1, cycles counting 1, 2,
3 ... per unit, units in order), the three operating settings and the sensors ``s_1`` ...
``s_21``, finite and inside the envelope of the C-MAPSS data widened by
:data:`ENVELOPE_MARGIN` of its span on each side (the table and its sources:
:data:`ENVELOPE`). The envelope is the format's, for all four fleets; whether an engine
resembles the ones a model was trained on is the model's out-of-distribution flag
(``monitoring``), not the schema's.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.pandas as pa

from autoencoder_pipelines.data.cmapss import (
    COLUMNS,
    INDEX_COLUMNS,
    RUL_COLUMN,
    SENSOR_COLUMNS,
    SETTING_COLUMNS,
    CMAPSSValidationError,
)
from autoencoder_pipelines.data.schemas.common import (
    FINITE,
    INTEGER,
    MEANING,
    missing_columns,
    number,
    required_columns,
    run_schema,
)

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


def _in_envelope(column: str) -> pa.Check:
    return pa.Check.in_range(*envelope(column))


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
MEANING["cycles_count_up"] = "breaks the order: a unit's cycles count 1, 2, 3 ... on consecutive rows, units in increasing order"


@lru_cache(maxsize=32)
def engine_log_schema(required_sensors: tuple[str, ...] = ()) -> pa.DataFrameSchema:
    """C-MAPSS engine logs: ``unit_nr`` and ``time_cycles`` (integers from 1, cycles
    counting 1, 2, 3 ... per unit, units in order), the three operating settings and the
    sensors ``s_1`` ... ``s_21``, finite and inside the envelope. The sensors are optional
    but for ``required_sensors`` (a model's); other columns are ignored."""
    columns = {c: number([FINITE, INTEGER, pa.Check.ge(1)]) for c in INDEX_COLUMNS}
    columns |= {c: number([FINITE, _in_envelope(c)]) for c in SETTING_COLUMNS}
    columns |= {c: number([FINITE, _in_envelope(c)], required=c in required_sensors) for c in SENSOR_COLUMNS}
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
    missing = missing_columns(schema, frame)
    if missing:
        raise CMAPSSValidationError(f"{name}: missing columns {missing}; expected {required_columns(schema)}.")
    if frame.empty:
        raise CMAPSSValidationError(f"{name}: no rows; expected at least one cycle of one engine.")
    checked = run_schema(schema, frame[known].reset_index(drop=True), name, CMAPSSValidationError, _engine_row)
    return checked.astype({c: np.int64 for c in INDEX_COLUMNS})


def _engine_row(frame: pd.DataFrame, row: int) -> str:
    try:
        unit, cycle = (float(frame[c].iloc[row]) for c in INDEX_COLUMNS)
    except (TypeError, ValueError):
        return ""
    return f" (unit {unit:g}, cycle {cycle:g})" if np.isfinite([unit, cycle]).all() else ""


RUL_SCHEMA = pa.DataFrameSchema({RUL_COLUMN: number([FINITE, INTEGER, pa.Check.ge(0)])}, name="C-MAPSS true RUL")


def validate_rul_table(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """True remaining useful lives (``RUL``: whole cycles, at least 0), one row per engine.

    Raises:
        CMAPSSValidationError: listing the problems.
    """
    return run_schema(RUL_SCHEMA, frame.reset_index(drop=True), name, CMAPSSValidationError, lambda *_: "")
