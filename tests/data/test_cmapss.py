"""Unit tests of the C-MAPSS preprocessing functions (reading: test_cmapss_files; the schema: test_schemas)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autoencoder_pipelines.data import cmapss
from autoencoder_pipelines.data.cmapss import CMAPSSValidationError, ConditionScaler
from tests.conftest import make_engines


def _frame(units, cycles, **sensors) -> pd.DataFrame:
    n = len(units)
    data = {c: np.zeros(n) for c in cmapss.COLUMNS}
    data.update(unit_nr=units, time_cycles=cycles, setting_3=np.full(n, 100.0))
    data.update(sensors)
    return pd.DataFrame(data)


def test_align_test_rul_needs_one_value_per_engine(engines):
    _, test, rul = engines
    with pytest.raises(CMAPSSValidationError, match="RUL_FD001.txt: 5 RUL values for 6 test engines"):
        cmapss.align_test_rul(pd.DataFrame({"RUL": rul[:-1]}), test, "RUL_FD001.txt")
    aligned = cmapss.align_test_rul(pd.DataFrame({"RUL": rul}), test, "RUL_FD001.txt")
    assert aligned["unit_nr"].tolist() == sorted(test["unit_nr"].unique()) and aligned["RUL"].tolist() == list(rul)


# --- labels ----------------------------------------------------------------------------


def test_add_rul_counts_down_to_zero_and_caps():
    frame = _frame([1] * 5 + [2] * 3, [1, 2, 3, 4, 5, 1, 2, 3])
    labelled = cmapss.add_rul(frame, max_rul=3)
    assert labelled["RUL"].tolist() == [3, 3, 2, 1, 0, 2, 1, 0]
    assert "RUL" not in frame.columns  # the input is not modified


def test_add_rul_caps_real_length_engines(engines):
    # The peer's `train["RUL"].clip(upper=..., inplace=True)` is a chained assignment
    # that pandas 3 silently drops; ours must cap whatever the pandas version.
    train, _, _ = engines
    labelled = cmapss.add_rul(train, max_rul=25)
    assert labelled["RUL"].max() == 25
    assert (labelled.groupby("unit_nr")["RUL"].last() == 0).all()


# --- scaling ---------------------------------------------------------------------------


def test_operating_condition_rounds_noisy_settings_to_the_six_conditions():
    frame, _ = make_engines(3, 30, 40, seed=0, n_conditions=4)
    assert set(cmapss.operating_condition(frame)) <= {"0_0_100", "10_0.25_100", "20_0.7_100", "42_0.84_100"}


def test_condition_scaler_standardises_each_condition_with_training_statistics():
    train, _ = make_engines(8, 40, 60, seed=0, n_conditions=4)
    sensors = ["s_3", "s_4"]
    scaled = ConditionScaler.fit(train, sensors).transform(train)
    by_condition = scaled.groupby(cmapss.operating_condition(train))[sensors]
    np.testing.assert_allclose(by_condition.mean().to_numpy(), 0, atol=1e-9)
    np.testing.assert_allclose(by_condition.std(ddof=0).to_numpy(), 1, atol=1e-9)


def test_condition_scaler_is_fitted_on_training_data_only():
    train, _ = make_engines(5, 40, 60, seed=0)
    test = train.assign(s_3=train["s_3"] + 1000.0)
    scaler = ConditionScaler.fit(train, ["s_3"])
    (mean,) = scaler.mean.values()
    assert mean[0] == pytest.approx(train["s_3"].mean())
    # Applied to shifted test data, the training statistics show the shift.
    shift = scaler.transform(test)["s_3"] - scaler.transform(train)["s_3"]
    np.testing.assert_allclose(shift, 1000.0 / train["s_3"].std(ddof=0))


def test_condition_scaler_round_trips_through_a_dict_and_rejects_unknown_conditions():
    train, _ = make_engines(5, 40, 60, seed=0, n_conditions=1)
    scaler = ConditionScaler.fit(train, ["s_3", "s_4"])
    restored = ConditionScaler.from_dict(scaler.to_dict())
    pd.testing.assert_frame_equal(restored.transform(train), scaler.transform(train))
    other, _ = make_engines(2, 40, 60, seed=1, n_conditions=4)
    with pytest.raises(CMAPSSValidationError, match="not seen in training"):
        scaler.transform(other, "test engines")


# --- smoothing -------------------------------------------------------------------------


def test_exponential_smoothing_restarts_for_each_engine():
    frame = _frame([1, 1, 1, 2, 2], [1, 2, 3, 1, 2], s_3=np.array([0.0, 1.0, 1.0, 5.0, 5.0]))
    smoothed = cmapss.exponential_smoothing(frame, ["s_3"], alpha=0.5)
    # adjust=True weights: y2 = (1 + 0.5*0) / 1.5; y3 = (1 + 0.5 + 0.25*0) / 1.75
    np.testing.assert_allclose(smoothed["s_3"], [0.0, 1 / 1.5, 1.5 / 1.75, 5.0, 5.0])
    assert frame["s_3"].tolist() == [0.0, 1.0, 1.0, 5.0, 5.0]


# --- windows ---------------------------------------------------------------------------


def test_sliding_windows_stay_inside_engines_and_label_the_last_cycle():
    values = np.arange(9, dtype=float)
    frame = _frame([1] * 5 + [2] * 4, [1, 2, 3, 4, 5, 1, 2, 3, 4], s_3=values, s_4=-values)
    frame["RUL"] = [4, 3, 2, 1, 0, 3, 2, 1, 0]
    windows, labels, units = cmapss.sliding_windows(frame, ["s_3", "s_4"], window=3)
    assert windows.shape == (3 + 2, 3, 2)
    np.testing.assert_array_equal(windows[:, :, 0], [[0, 1, 2], [1, 2, 3], [2, 3, 4], [5, 6, 7], [6, 7, 8]])
    np.testing.assert_array_equal(windows[:, :, 1], -windows[:, :, 0])
    np.testing.assert_array_equal(labels, [2, 1, 0, 1, 0])
    np.testing.assert_array_equal(units, [1, 1, 1, 2, 2])


def test_sliding_windows_skip_engines_shorter_than_the_window():
    frame = _frame([1, 1, 2, 2, 2], [1, 2, 1, 2, 3], s_3=np.arange(5.0))
    windows, _, units = cmapss.sliding_windows(frame, ["s_3"], window=3)
    assert windows.shape == (1, 3, 1)
    np.testing.assert_array_equal(units, [2])


def test_last_windows_left_pad_short_engines_with_the_mask_value():
    frame = _frame([1] * 4 + [2] * 2, [1, 2, 3, 4, 1, 2], s_3=np.arange(1.0, 7.0))
    windows, units = cmapss.last_windows(frame, ["s_3"], window=3, mask_value=-99.0)
    np.testing.assert_array_equal(units, [1, 2])
    np.testing.assert_array_equal(windows[:, :, 0], [[2, 3, 4], [-99, 5, 6]])


def test_last_windows_refuse_a_mask_value_present_in_the_data():
    frame = _frame([1, 1], [1, 2], s_3=np.array([0.0, -99.0]))
    with pytest.raises(ValueError, match="mask_value=-99.0 occurs in the sensor data"):
        cmapss.last_windows(frame, ["s_3"], window=2, mask_value=-99.0)


def test_split_units_is_seeded_disjoint_and_complete(engines):
    train, _, _ = engines
    fit_a, val_a = cmapss.split_units(train, 0.2, seed=3)
    fit_b, val_b = cmapss.split_units(train, 0.2, seed=3)
    np.testing.assert_array_equal(val_a, val_b)
    assert len(val_a) == 2 and not set(fit_a) & set(val_a)
    assert sorted([*fit_a, *val_a]) == sorted(train["unit_nr"].unique())
    with pytest.raises(ValueError, match="validation_fraction=0.01 leaves 0 of 10 engines"):
        cmapss.split_units(train, 0.01, seed=3)
