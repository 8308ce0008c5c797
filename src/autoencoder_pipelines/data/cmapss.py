"""NASA C-MAPSS turbofan data: the columns and the RUL preprocessing steps.

Pure pandas/NumPy functions, no I/O: the Kedro nodes call them on what the catalog
loaded (reading the files: ``cmapss_files``; the engine logs' schema: ``schemas``). The preprocessing follows Costa & Sánchez, "Variational encoding approach for
interpretable assessment of remaining useful life estimation", RESS 2022:
piecewise-linear RUL labels, standardisation per operating condition, exponential
smoothing per engine and sliding windows over a few informative sensors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

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


class CMAPSSValidationError(ValueError):
    """A C-MAPSS file does not hold what the pipeline expects."""


def align_test_rul(rul: pd.DataFrame, test: pd.DataFrame, name: str) -> pd.DataFrame:
    """The true RUL of each test engine (``unit_nr``, ``RUL``): the file gives one value
    per engine, in unit order.

    Raises:
        CMAPSSValidationError: naming ``name``, when the counts differ.
    """
    n_units = test["unit_nr"].nunique()
    if len(rul) != n_units:
        raise CMAPSSValidationError(f"{name}: {len(rul)} RUL values for {n_units} test engines; expected one per engine.")
    return pd.DataFrame({"unit_nr": np.sort(test["unit_nr"].unique()), RUL_COLUMN: rul[RUL_COLUMN].to_numpy()})


def cut_engines(frame: pd.DataFrame, window: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run-to-failure histories cut as test engines are: each engine at a cycle drawn
    (seeded by the seed and its unit) between ``window`` (or its first cycle, if shorter)
    and its last but one. Returns the cut logs and the true RUL of each (``unit_nr``,
    ``RUL``: the cycles it had left)."""
    logs, truth = [], []
    for unit, rows in frame.groupby("unit_nr", sort=True):
        life = len(rows)
        rng = np.random.default_rng([seed, int(unit)])
        cut = int(rng.integers(min(window, life - 1), life)) if life > 1 else 1
        logs.append(rows.iloc[:cut])
        truth.append((unit, life - cut))
    columns = (
        pd.DataFrame(truth, columns=["unit_nr", RUL_COLUMN])
        if truth
        else pd.DataFrame({"unit_nr": pd.Series(dtype=np.int64), RUL_COLUMN: pd.Series(dtype=np.float64)})
    )
    cut_logs = pd.concat(logs, ignore_index=True) if logs else frame.iloc[:0]
    return cut_logs, columns.astype({"unit_nr": np.int64, RUL_COLUMN: np.float64})


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
                f"{name}: operating conditions {unknown} were not seen in training (known: {sorted(self.mean)})."
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


def sliding_windows(frame: pd.DataFrame, sensors: Sequence[str], window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def last_windows(frame: pd.DataFrame, sensors: Sequence[str], window: int, mask_value: float) -> tuple[np.ndarray, np.ndarray]:
    """The last ``window`` cycles of each engine, left-padded with ``mask_value``.

    Engines with fewer cycles than ``window`` get their first time steps filled with
    ``mask_value``, which the model's ``Masking`` layer skips.

    Returns:
        windows ``(n_units, window, n_sensors)`` float32 and the sorted units.
    """
    values = frame[list(sensors)].to_numpy(dtype=np.float32)
    if np.any(values == mask_value):
        raise ValueError(f"mask_value={mask_value} occurs in the sensor data; choose a value the scaled sensors cannot take.")
    units = frame["unit_nr"].to_numpy()
    ends = np.r_[np.flatnonzero(units[1:] != units[:-1]), len(units) - 1]
    starts = np.r_[0, ends[:-1] + 1]
    rows = ends[:, None] - np.arange(window - 1, -1, -1)[None, :]  # (n_units, window)
    padded = rows < starts[:, None]
    windows = values[np.where(padded, 0, rows)]
    windows[padded] = mask_value
    return windows, units[ends]
