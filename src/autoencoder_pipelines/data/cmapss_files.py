"""Reading the C-MAPSS files: names, checksums and the whitespace-separated text.

Pure functions on bytes (the catalog reads the files). Reading gives a table of the
file's fields; what they must hold is the engine logs' schema (``schemas``), which the
catalog applies when the parsed table is saved.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from autoencoder_pipelines.data.cmapss import COLUMNS, CMAPSSValidationError

# sha256 of the original NASA files (whitespace text, as distributed).
KNOWN_SHA256 = {
    "train_FD001.txt": "963b5e22825b34d8b21c69e1aeb4af3e647050eb672ee8834ba4b5d91d2de0f8",
    "test_FD001.txt": "3cda7109ce17bafb5443f2ac926cfcf88154b941b8c4cf95eb55d1ddd6f52851",
    "RUL_FD001.txt": "a19c8ec94931949d0485bdc35118206e9c81c4547b422efb9cf86f4ceddbceca",
    "RUL_FD002.txt": "c851dd96a6ea6998d3c4a8f834d3c8013aa90e93a6ed950dc826ad0655b2906b",
    "test_FD003.txt": "299babd63c8d987cef079c4a425429f33b3a34797d803bbe2ad48c29dbd0d790",
    "RUL_FD003.txt": "df1e0566306b174a2de41c67a3e7a51877889598b78643fc3e5685259091b7cb",
    "RUL_FD004.txt": "196b836b85a95ac7fdbbf29c5fdf1657382eafa445644d114ffaaf50dc2975e1",
}


def file_name(kind: str, subset: str) -> str:
    """Name of a C-MAPSS file: ``train_FD001.txt``, ``test_FD001.txt``, ``RUL_FD001.txt``."""
    prefixes = {"train": "train", "test": "test", "rul": "RUL"}
    if kind not in prefixes:
        raise ValueError(f"Unknown C-MAPSS file kind {kind!r}; expected one of {sorted(prefixes)}.")
    return f"{prefixes[kind]}_{subset}.txt"


def verify_checksum(content: bytes, name: str) -> str:
    """Return the sha256 of ``content``; raise if ``name`` has a known, different sum."""
    digest = hashlib.sha256(content).hexdigest()
    expected = KNOWN_SHA256.get(name)
    if expected is not None and digest != expected:
        raise CMAPSSValidationError(
            f"{name}: sha256 {digest} does not match the published {expected}; "
            "the file is corrupt, truncated or not the NASA original."
        )
    return digest


def parse_table(content: bytes, name: str, columns: Sequence[str]) -> pd.DataFrame:
    """Whitespace-separated fields into a frame with the given column names: float64
    columns, or, where a field is not a number, the column as read (the schema then names
    the row and the value).

    Raises:
        CMAPSSValidationError: naming ``name``, when the file is empty or a line has
            another number of fields than ``columns``.
    """
    frame = _parse_single_spaced(content, len(columns))
    if frame is not None:
        frame.columns = list(columns)
        return frame
    # The general reader: any whitespace, and precise errors.
    try:
        # Missing fields read as "", the text "nan" as text: a short line is told from a NaN.
        frame = pd.read_csv(io.BytesIO(content), sep=r"\s+", header=None, keep_default_na=False, na_values=[])
    except pd.errors.EmptyDataError:
        raise CMAPSSValidationError(f"{name}: the file is empty.") from None
    except pd.errors.ParserError as err:
        raise CMAPSSValidationError(f"{name}: expected {len(columns)} whitespace-separated columns per line ({err}).") from None
    empty = (frame == "").any(axis=1).to_numpy()
    if frame.shape[1] != len(columns) or empty.any():
        short = np.flatnonzero(empty)
        where = f" (line {int(short[0]) + 1} is short)" if len(short) and frame.shape[1] == len(columns) else ""
        raise CMAPSSValidationError(
            f"{name}: expected {len(columns)} whitespace-separated columns "
            f"({', '.join(columns[:3])}, ...), found {frame.shape[1]}{where}."
        )
    frame.columns = list(columns)
    return frame.apply(lambda column: column.astype(np.float64) if pd.api.types.is_numeric_dtype(column) else column)


def _parse_single_spaced(content: bytes, n_columns: int) -> pd.DataFrame | None:
    """Fast path for the layout of the NASA files: numbers separated by one space,
    lines ending in spaces. Returns None unless every line gives exactly
    ``n_columns`` non-missing numbers; the general parser then reads (or rejects) it.
    """
    try:
        table = pa_csv.read_csv(
            io.BytesIO(content),
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
            parse_options=pa_csv.ParseOptions(delimiter=" "),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    # Trailing spaces make trailing all-null columns.
    while table.num_columns > n_columns and table.column(table.num_columns - 1).null_count == table.num_rows:
        table = table.remove_column(table.num_columns - 1)
    numeric = all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in table.schema.types)
    if table.num_columns != n_columns or not numeric or any(c.null_count for c in table.columns):
        return None
    return table.to_pandas().astype(np.float64)


def read_engine_file(content: bytes, name: str) -> pd.DataFrame:
    """Engine logs from a file: the NASA layout (26 columns, no header) or a table with a
    header (columns named, separated by whitespace or commas; the C-MAPSS columns are
    matched by name, others kept for the schema to ignore).

    Raises:
        CMAPSSValidationError: naming ``name``: an empty file, a line with another
            number of fields, a table that cannot be read.
    """
    first_line = content.lstrip().split(b"\n", 1)[0]
    first_field = re.split(rb"[\s,]+", first_line.strip(), maxsplit=1)[0]
    if not first_field or _is_number(first_field):
        return parse_table(content, name, COLUMNS)
    try:
        return pd.read_csv(io.BytesIO(content), sep=r"[\s,]+", engine="python")
    except pd.errors.ParserError as err:
        raise CMAPSSValidationError(f"{name}: cannot read the table ({err}).") from None


def _is_number(field: bytes) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True
