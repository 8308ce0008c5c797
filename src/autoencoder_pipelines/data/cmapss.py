"""NASA C-MAPSS turbofan data: parsing, validation and the RUL preprocessing steps.

Pure pandas/NumPy functions, no I/O: the Kedro nodes call them on what the catalog
loaded. The preprocessing follows Costa & Sánchez, "Variational encoding approach for
interpretable assessment of remaining useful life estimation", RESS 2022:
piecewise-linear RUL labels, standardisation per operating condition, exponential
smoothing per engine and sliding windows over a few informative sensors.
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

SUBSETS = ("FD001", "FD002", "FD003", "FD004")
INDEX_COLUMNS = ("unit_nr", "time_cycles")
SETTING_COLUMNS = ("setting_1", "setting_2", "setting_3")
SENSOR_COLUMNS = tuple(f"s_{i}" for i in range(1, 22))
COLUMNS = INDEX_COLUMNS + SETTING_COLUMNS + SENSOR_COLUMNS  # the 26 columns of the files
RUL_COLUMN = "RUL"

# T30, T50, P30, Ps30 and phi (Costa & Sánchez 2022); s_10 (P15) joins them on the
# subsets with six operating conditions.
DEFAULT_SENSORS = {
    "FD001": ("s_3", "s_4", "s_7", "s_11", "s_12"),
    "FD002": ("s_3", "s_4", "s_7", "s_10", "s_11", "s_12"),
    "FD003": ("s_3", "s_4", "s_7", "s_11", "s_12"),
    "FD004": ("s_3", "s_4", "s_7", "s_10", "s_11", "s_12"),
}

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


class CMAPSSValidationError(ValueError):
    """A C-MAPSS file does not hold what the pipeline expects."""


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
    """Parse whitespace-separated numbers into a frame with the given column names.

    Raises:
        CMAPSSValidationError: naming ``name`` (and the column where it can), when the
            file is empty, a row has the wrong number of fields, or a value is missing or
            not numeric.
    """
    frame = _parse_single_spaced(content, len(columns))
    if frame is not None:
        frame.columns = list(columns)
        return frame
    # The general reader: any whitespace, and precise errors.
    try:
        frame = pd.read_csv(io.BytesIO(content), sep=r"\s+", header=None)
    except pd.errors.EmptyDataError:
        raise CMAPSSValidationError(f"{name}: the file is empty.") from None
    except pd.errors.ParserError as err:
        raise CMAPSSValidationError(
            f"{name}: expected {len(columns)} whitespace-separated columns per line ({err})."
        ) from None
    if frame.shape[1] != len(columns):
        raise CMAPSSValidationError(
            f"{name}: expected {len(columns)} whitespace-separated columns "
            f"({', '.join(columns[:3])}, ...), found {frame.shape[1]}."
        )
    frame.columns = list(columns)
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            numbers = pd.to_numeric(frame[column], errors="coerce")
            row = int(np.flatnonzero(numbers.isna() & frame[column].notna())[0])
            raise CMAPSSValidationError(
                f"{name}: column {column!r} holds the non-numeric value "
                f"{frame[column].iloc[row]!r} on data line {row + 1}."
            )
    nan_columns = frame.columns[frame.isna().any()].tolist()
    if nan_columns:
        raise CMAPSSValidationError(
            f"{name}: missing values (NaN or short lines) in columns {nan_columns}."
        )
    return frame.astype(np.float64)


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


def validate_engine_table(frame: pd.DataFrame, name: str, required: Sequence[str] = COLUMNS) -> pd.DataFrame:
    """Check a train/test table and return it with integer unit and cycle columns.

    ``required`` are the columns that must be there (all 26 for the NASA files).

    Units must be positive integers in non-decreasing order; within a unit, cycles must
    run 1, 2, 3, ... without gaps, which is how the NASA files are laid out and what the
    windowing relies on.
    """
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise CMAPSSValidationError(f"{name}: missing columns {missing}.")
    units = frame["unit_nr"].to_numpy()
    cycles = frame["time_cycles"].to_numpy()
    for column, values in (("unit_nr", units), ("time_cycles", cycles)):
        if np.any(values != np.round(values)) or np.any(values < 1):
            raise CMAPSSValidationError(f"{name}: {column!r} must hold positive integers.")
    if np.any(np.diff(units) < 0):
        row = int(np.flatnonzero(np.diff(units) < 0)[0]) + 2
        raise CMAPSSValidationError(
            f"{name}: 'unit_nr' is not sorted (decreases at data line {row}); expected the "
            "rows of each engine together, engines in increasing order."
        )
    first = np.r_[True, units[1:] != units[:-1]]
    expected = np.where(first, 1, np.r_[0, cycles[:-1]] + 1)
    if np.any(cycles != expected):
        row = int(np.flatnonzero(cycles != expected)[0])
        raise CMAPSSValidationError(
            f"{name}: 'time_cycles' of unit {int(units[row])} is {int(cycles[row])} on data "
            f"line {row + 1}, expected {int(expected[row])} (cycles count 1, 2, 3, ...)."
        )
    return frame.astype({"unit_nr": np.int64, "time_cycles": np.int64})


def parse_engine_file(content: bytes, name: str, required: Sequence[str]) -> pd.DataFrame:
    """Engines to score: the NASA layout (26 columns, no header) or a table with a header.

    A first line that starts with a name, not a number, is a header: columns are then
    matched by name (separated by whitespace or commas), the C-MAPSS columns present are
    kept, others are ignored, and each missing one of ``required`` is named. Values must
    be numeric and present, units sorted and cycles 1, 2, 3, ... as in the NASA files.

    Raises:
        CMAPSSValidationError: naming ``name`` and the column (and line) at fault.
    """
    first_line = content.lstrip().split(b"\n", 1)[0]
    first_field = re.split(rb"[\s,]+", first_line.strip(), maxsplit=1)[0]
    if not first_field or _is_number(first_field):
        return validate_engine_table(parse_table(content, name, COLUMNS), name, required)
    try:
        frame = pd.read_csv(io.BytesIO(content), sep=r"[\s,]+", engine="python")
    except pd.errors.ParserError as err:
        raise CMAPSSValidationError(f"{name}: cannot read the table ({err}).") from None
    return validate_engine_frame(frame, name, required)


def validate_engine_frame(frame: pd.DataFrame, name: str, required: Sequence[str]) -> pd.DataFrame:
    """Check engine logs that arrive as a table with named columns (a file with a header,
    a request to the served model) and return them as :func:`validate_engine_table` does.

    The C-MAPSS columns present are kept, others are ignored; a table with none of them
    is not in the C-MAPSS layout. Each missing one of ``required`` is named, as is the
    first non-numeric value and every column with missing values.

    Raises:
        CMAPSSValidationError: naming ``name`` and the column (and row) at fault.
    """
    known = [c for c in COLUMNS if c in frame.columns]
    if not known:
        shown = [str(c) for c in frame.columns[:8]] + (["..."] if len(frame.columns) > 8 else [])
        raise CMAPSSValidationError(
            f"{name}: the columns {shown} are not the C-MAPSS layout; expected named columns "
            f"{list(INDEX_COLUMNS + SETTING_COLUMNS)} and the sensors s_1 ... s_21."
        )
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise CMAPSSValidationError(f"{name}: missing columns {missing}; the model needs {list(required)}.")
    if frame.empty:
        raise CMAPSSValidationError(f"{name}: no rows; expected at least one cycle of one engine.")
    frame = frame[known].copy()
    for column in frame.columns:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = numbers.isna() & frame[column].notna()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise CMAPSSValidationError(
                f"{name}: column {column!r} holds the non-numeric value {frame[column].iloc[row]!r} "
                f"on data line {row + 1}."
            )
        frame[column] = numbers
    nan_columns = frame.columns[frame.isna().any()].tolist()
    if nan_columns:
        raise CMAPSSValidationError(f"{name}: missing values (NaN or empty fields) in columns {nan_columns}.")
    return validate_engine_table(frame.astype(np.float64).reset_index(drop=True), name, required)


def _is_number(field: bytes) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def validate_test_rul(rul: pd.DataFrame, test: pd.DataFrame, name: str) -> pd.DataFrame:
    """Check the true RULs against the test engines: one non-negative value per unit."""
    n_units = test["unit_nr"].nunique()
    if len(rul) != n_units:
        raise CMAPSSValidationError(
            f"{name}: {len(rul)} RUL values for {n_units} test engines; expected one per engine."
        )
    if (rul[RUL_COLUMN] < 0).any():
        raise CMAPSSValidationError(f"{name}: negative remaining useful life.")
    return pd.DataFrame(
        {"unit_nr": np.sort(test["unit_nr"].unique()), RUL_COLUMN: rul[RUL_COLUMN].to_numpy()}
    )


def engine_lengths(frame: pd.DataFrame) -> pd.Series:
    """Number of cycles of each engine, indexed by ``unit_nr``."""
    return frame.groupby("unit_nr", sort=True).size()


def add_rul(train: pd.DataFrame, max_rul: float) -> pd.DataFrame:
    """Add the piecewise-linear RUL target: cycles left until failure, capped at ``max_rul``.

    Training engines run to failure, so the RUL at cycle t of an engine with T cycles is
    T - t. Early in life the degradation is invisible, hence the cap (Heimes 2008).
    Returns a new frame; the input is not modified.
    """
    last_cycle = train.groupby("unit_nr")["time_cycles"].transform("max")
    rul = (last_cycle - train["time_cycles"]).clip(upper=max_rul)
    return train.assign(**{RUL_COLUMN: rul.astype(np.float64)})


def condition_codes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Operating condition of each row: ``(labels, codes)``, ``labels[codes]`` per row.

    The six C-MAPSS conditions are (altitude, Mach, TRA) triples; rounding the noisy
    settings the way the reference implementation does recovers them exactly:
    setting_1 to integers, setting_2 to two decimals, setting_3 as is.
    Labels look like ``"42_0.84_100"``; only the distinct triples are formatted.
    """
    s1 = np.abs(np.round(frame["setting_1"].to_numpy(np.float64))) + 0.0  # + 0.0: no -0.0
    s2 = np.abs(np.round(frame["setting_2"].to_numpy(np.float64), 2)) + 0.0
    s3 = frame["setting_3"].to_numpy(np.float64) + 0.0
    codes, triples = pd.MultiIndex.from_arrays([s1, s2, s3]).factorize()
    labels = np.array([f"{a:g}_{b:g}_{c:g}" for a, b, c in triples], dtype=object)
    return labels, codes


def operating_condition(frame: pd.DataFrame) -> pd.Series:
    """The operating-condition label of each row (see :func:`condition_codes`)."""
    labels, codes = condition_codes(frame)
    return pd.Series(labels[codes], index=frame.index, name="condition")


class ConditionScaler:
    """Standardise sensors per operating condition, fitted on training data only.

    The state is plain numbers (``to_dict``/``from_dict``), so the catalog stores it as
    JSON and inference reuses it without unpickling code.
    """

    def __init__(self, sensors: Sequence[str], mean: dict[str, list[float]], scale: dict[str, list[float]]):
        self.sensors = list(sensors)
        self.mean = {k: list(map(float, v)) for k, v in mean.items()}
        self.scale = {k: list(map(float, v)) for k, v in scale.items()}

    @classmethod
    def fit(cls, frame: pd.DataFrame, sensors: Sequence[str]) -> ConditionScaler:
        """Per-condition mean and (population) standard deviation of each sensor.

        A constant sensor gets scale 1, as in scikit-learn's ``StandardScaler``.
        """
        labels, codes = condition_codes(frame)
        values = frame[list(sensors)].to_numpy(np.float64)
        mean, scale = {}, {}
        for code, label in enumerate(labels):
            rows = values[codes == code]
            std = rows.std(axis=0)
            mean[label] = rows.mean(axis=0).tolist()
            scale[label] = np.where(std == 0.0, 1.0, std).tolist()
        return cls(sensors, mean, scale)

    def transform(self, frame: pd.DataFrame, name: str = "frame") -> pd.DataFrame:
        """Return a copy of ``frame`` with its sensors standardised per condition."""
        missing = [s for s in self.sensors if s not in frame.columns]
        if missing:
            raise CMAPSSValidationError(f"{name}: missing sensor columns {missing}.")
        labels, codes = condition_codes(frame)
        unknown = sorted(set(labels) - set(self.mean))
        if unknown:
            raise CMAPSSValidationError(
                f"{name}: operating conditions {unknown} were not seen in training "
                f"(known: {sorted(self.mean)})."
            )
        mean = np.array([self.mean[label] for label in labels])[codes]
        scale = np.array([self.scale[label] for label in labels])[codes]
        out = frame.copy()
        out[self.sensors] = (frame[self.sensors].to_numpy(np.float64) - mean) / scale
        return out

    def to_dict(self) -> dict:
        return {"sensors": self.sensors, "mean": self.mean, "scale": self.scale}

    @classmethod
    def from_dict(cls, state: dict) -> ConditionScaler:
        try:
            return cls(state["sensors"], state["mean"], state["scale"])
        except KeyError as err:
            raise ValueError(f"Condition scaler state lacks the key {err}; expected sensors, mean, scale.") from None


def exponential_smoothing(frame: pd.DataFrame, sensors: Sequence[str], alpha: float) -> pd.DataFrame:
    """Exponentially weighted mean of each sensor, restarted for every engine.

    ``y_t = sum_i (1-alpha)^i x_{t-i} / sum_i (1-alpha)^i`` over the engine's cycles so far
    (pandas ``ewm(adjust=True)``), which has no start-up bias, so no early cycles need
    to be dropped. The numerator is a first-order IIR filter, run per engine with
    ``scipy.signal.lfilter``; the denominator has the closed form
    ``(1 - (1-alpha)^(k+1)) / alpha`` at the k-th cycle of an engine.
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}.")
    from scipy.signal import lfilter  # noqa: PLC0415 - slow to import

    values = frame[list(sensors)].to_numpy(np.float64)
    units = frame["unit_nr"].to_numpy()
    bounds = np.r_[0, np.flatnonzero(units[1:] != units[:-1]) + 1, len(units)]
    decay = 1.0 - alpha
    numerator = np.empty_like(values)
    steps = np.empty(len(values))
    for start, stop in zip(bounds[:-1], bounds[1:]):
        numerator[start:stop] = lfilter([1.0], [1.0, -decay], values[start:stop], axis=0)
        steps[start:stop] = np.arange(1, stop - start + 1)
    weights = (1.0 - decay**steps) / alpha if decay > 0 else np.ones_like(steps)
    out = frame.copy()
    out[list(sensors)] = numerator / weights[:, None]
    return out


def split_units(frame: pd.DataFrame, validation_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw validation engines at random (seeded); windows never straddle the split."""
    units = np.sort(frame["unit_nr"].unique())
    n_val = int(round(validation_fraction * len(units)))
    if not 0 < n_val < len(units):
        raise ValueError(
            f"validation_fraction={validation_fraction} leaves {n_val} of {len(units)} engines "
            "for validation; expected at least one engine on each side."
        )
    rng = np.random.default_rng(seed)
    val = np.sort(rng.choice(units, size=n_val, replace=False))
    return np.setdiff1d(units, val), val


def sliding_windows(
    frame: pd.DataFrame, sensors: Sequence[str], window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every window of ``window`` consecutive cycles inside one engine.

    Vectorised: all windows of the concatenated table are views
    (``sliding_window_view``); those whose first and last rows belong to the same
    engine are kept. Engines shorter than ``window`` contribute none.

    Returns:
        windows ``(n, window, n_sensors)`` float32, the RUL at each window's last cycle
        ``(n,)`` float32 (if the frame has a RUL column, else NaN), and the unit of each
        window ``(n,)``.
    """
    values = frame[list(sensors)].to_numpy(dtype=np.float32)
    units = frame["unit_nr"].to_numpy()
    if len(frame) < window:
        return (
            np.empty((0, window, len(sensors)), np.float32),
            np.empty((0,), np.float32),
            np.empty((0,), units.dtype),
        )
    starts = np.flatnonzero(units[: len(units) - window + 1] == units[window - 1 :])
    # (n_rows - window + 1, n_sensors, window) -> (n, window, n_sensors)
    views = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)[starts]
    windows = np.ascontiguousarray(views.transpose(0, 2, 1))
    ends = starts + window - 1
    if RUL_COLUMN in frame.columns:
        labels = frame[RUL_COLUMN].to_numpy(dtype=np.float32)[ends]
    else:
        labels = np.full(len(ends), np.nan, np.float32)
    return windows, labels, units[ends]


def last_windows(
    frame: pd.DataFrame, sensors: Sequence[str], window: int, mask_value: float
) -> tuple[np.ndarray, np.ndarray]:
    """The last ``window`` cycles of each engine, left-padded with ``mask_value``.

    Engines with fewer cycles than ``window`` get their first time steps filled with
    ``mask_value``, which the model's ``Masking`` layer skips.

    Returns:
        windows ``(n_units, window, n_sensors)`` float32 and the sorted units.
    """
    values = frame[list(sensors)].to_numpy(dtype=np.float32)
    if np.any(values == mask_value):
        raise ValueError(
            f"mask_value={mask_value} occurs in the sensor data; choose a value the "
            "scaled sensors cannot take."
        )
    units = frame["unit_nr"].to_numpy()
    ends = np.r_[np.flatnonzero(units[1:] != units[:-1]), len(units) - 1]
    starts = np.r_[0, ends[:-1] + 1]
    rows = ends[:, None] - np.arange(window - 1, -1, -1)[None, :]  # (n_units, window)
    padded = rows < starts[:, None]
    windows = values[np.where(padded, 0, rows)]
    windows[padded] = mask_value
    return windows, units[ends]
