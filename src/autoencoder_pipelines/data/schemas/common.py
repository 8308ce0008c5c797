"""What every declared format shares: the number checks, what a failed check means, and
running a schema so that its failures read as one line per problem, naming the source,
the row, the column and the check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

SHOWN = 5  # problems listed in a message; the count of the others follows


def finite_values(values: pd.Series) -> pd.Series:
    """Per value: a finite number."""
    return pd.Series(np.isfinite(values.to_numpy(np.float64)), index=values.index)


def not_infinite(values: pd.Series) -> pd.Series:
    """Per value of an optional column: empty, or finite."""
    return pd.Series(~np.isinf(values.to_numpy(np.float64)), index=values.index)


def whole_numbers(values: pd.Series) -> pd.Series:
    """Per value: a finite whole number."""
    numbers = values.to_numpy(np.float64)
    return pd.Series(np.isfinite(numbers) & (numbers == np.round(numbers)), index=values.index)


FINITE = pa.Check(finite_values, name="finite")
INTEGER = pa.Check(whole_numbers, name="integer")

# What each check's failure means, by the check's name as pandera reports it.
MEANING = {
    "finite": "is not a finite number",
    "integer": "is not a whole number",
    "coerce_dtype": "is not a number",
    "dtype": "is not a number",
    "not_nullable": "is missing (NaN or an empty field)",
    "greater_than_or_equal_to": "is below {0}",
    "greater_than": "is not above {0}",
    "less_than_or_equal_to": "is above {0}",
    "equal_to": "is not {0}",
    "in_range": "is outside the envelope [{0}, {1}]",
}


def number(checks: list[pa.Check], *, required: bool = True, nullable: bool = False) -> pa.Column:
    """A numeric column, coerced to float64 (text is reported as not a number), with ``checks``."""
    return pa.Column("float64", checks, coerce=True, required=required, nullable=nullable)


def required_columns(schema: pa.DataFrameSchema) -> list[str]:
    return [c for c, column in schema.columns.items() if column.required]


def missing_columns(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[str]:
    return [c for c in required_columns(schema) if c not in frame.columns]


def run_schema(schema: pa.DataFrameSchema, frame: pd.DataFrame, name: str, error: type[ValueError], describe) -> pd.DataFrame:
    """``schema.validate`` (every check run, lazily), its failures raised as ``error``;
    ``describe(frame, row)`` names a row's item (" (unit 1, cycle 3)")."""
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
    template = MEANING.get(base)
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
