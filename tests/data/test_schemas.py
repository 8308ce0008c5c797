"""The declared input formats (``data.schemas``): every bad value is refused naming the
source, the row, the column and the check; good data passes typed."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog
from kedro.validation import DataValidationError

from autoencoder_pipelines.data import schemas
from autoencoder_pipelines.data.cmapss import COLUMNS, CMAPSSValidationError
from autoencoder_pipelines.data.mnist import MNISTValidationError
from autoencoder_pipelines.data.pacemaker import PacemakerValidationError
from tests.conftest import make_engines


@pytest.fixture
def logs() -> pd.DataFrame:
    test, _ = make_engines(3, 12, 20, seed=3, truncate=True)
    return test


def _set(frame: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    frame = frame.astype({column: object if isinstance(value, str) else np.float64})
    frame.loc[row, column] = value
    return frame


ENGINE_CASES = {
    "NaN": ("s_4", np.nan, r"row 3 \(unit 1, cycle 3\), column 's_4': the value is missing \(NaN or an empty field\)"),
    "inf": ("s_2", np.inf, r"row 3 \(unit 1, cycle 3\), column 's_2': inf is not a finite number"),
    "-inf": ("s_2", -np.inf, r"row 3 \(unit 1, cycle 3\), column 's_2': -inf is not a finite number"),
    "1e308": ("s_4", 1e308, r"row 3 \(unit 1, cycle 3\), column 's_4': 1e\+308 is outside the envelope \[919\.34, 1545\.92\]"),
    "far outside": ("s_11", 480.0, r"row 3 \(unit 1, cycle 3\), column 's_11': 480 is outside the envelope"),
    "setting": ("setting_2", 3.0, r"row 3 \(unit 1, cycle 3\), column 'setting_2': 3 is outside the envelope"),
    "text": ("s_11", "high", r"row 3 \(unit 1, cycle 3\), column 's_11': 'high' is not a number"),
    "negative unit": ("unit_nr", -1, r"row 3 \(unit -1, cycle 3\), column 'unit_nr': -1 is below 1"),
    "fractional unit": ("unit_nr", 1.5, r"row 3 \(unit 1\.5, cycle 3\), column 'unit_nr': 1\.5 is not a whole number"),
    "negative cycle": ("time_cycles", -3, r"row 3 \(unit 1, cycle -3\), column 'time_cycles': -3 is below 1"),
    "fractional cycle": ("time_cycles", 2.5, r"row 3 \(unit 1, cycle 2\.5\), column 'time_cycles': 2\.5 is not a whole number"),
    "cycle skipped": ("time_cycles", 4, r"row 3 \(unit 1, cycle 4\): breaks the order: a unit's cycles count 1, 2, 3"),
}


@pytest.mark.parametrize("case", ENGINE_CASES)
def test_each_impossible_engine_value_is_refused_naming_its_row_column_and_check(logs, case):
    column, value, message = ENGINE_CASES[case]
    with pytest.raises(CMAPSSValidationError) as error:
        schemas.validate_engine_log(_set(logs, 2, column, value), "request")
    assert re.search(r"^request: (\d+ problems:\n  )?" + message, str(error.value)), str(error.value)


def test_valid_engine_logs_pass_with_integer_units_and_cycles_and_only_their_known_columns(logs):
    checked = schemas.validate_engine_log(logs.assign(comment="x").astype({"unit_nr": float}), "engines.txt")
    assert list(checked.columns) == list(COLUMNS)
    assert checked["unit_nr"].dtype == np.int64 and checked["time_cycles"].dtype == np.int64
    np.testing.assert_array_equal(checked.to_numpy(np.float64), logs.to_numpy(np.float64))


def test_many_problems_are_listed_up_to_a_few_then_counted(logs):
    bad = logs.copy()
    bad.loc[:7, "s_3"] = np.inf
    message = str(pytest.raises(CMAPSSValidationError, schemas.validate_engine_log, bad, "request").value)
    assert message.startswith("request: 8 problems:\n  row 1 (unit 1, cycle 1), column 's_3': inf")
    assert message.endswith("... and 3 more")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="s_4"), r"request: missing columns \['s_4'\]"),
        (
            lambda f: f.set_axis([f"c{i}" for i in range(f.shape[1])], axis=1),
            r"request: the columns \['c0', .*\] are not the C-MAPSS layout",
        ),
        (lambda f: f.iloc[:0], "request: no rows"),
        (lambda f: f.to_numpy(), "request: expected a table with named columns"),
    ],
)
def test_a_request_of_another_shape_is_refused_naming_what_is_expected(logs, change, message):
    with pytest.raises(CMAPSSValidationError, match=message):
        schemas.validate_engine_log(change(logs), "request")


def test_a_model_asks_for_its_own_sensors_only(logs):
    required = ("unit_nr", "time_cycles", "setting_1", "setting_2", "setting_3", "s_2", "s_3")
    checked = schemas.validate_engine_log(logs[list(required)], "request", required)
    assert list(checked.columns) == list(required)


def test_the_envelope_holds_the_published_ranges_with_its_margin():
    for column, (low, high) in schemas.ENVELOPE.items():
        accepted = schemas.envelope(column)
        assert accepted[0] < low <= high < accepted[1], column
        assert accepted[1] - high == pytest.approx(schemas.ENVELOPE_MARGIN * (high - low), abs=1e-4), column


def test_the_true_rul_must_be_whole_non_negative_cycles():
    with pytest.raises(CMAPSSValidationError) as error:
        schemas.validate_rul_table(pd.DataFrame({"RUL": [3.0, -2.0, 2.5, np.inf]}), "RUL_FD001.txt")
    lines = str(error.value).splitlines()
    assert lines[0] == "RUL_FD001.txt: 3 problems:"
    assert "row 2, column 'RUL': -2 is below 0" in lines[1] and "row 3, column 'RUL': 2.5 is not a whole number" in lines[2]
    assert "row 4, column 'RUL': inf is not a finite number" in lines[3]


# --- pacemaker episode logs -----------------------------------------------------------------


@pytest.fixture
def episodes() -> pd.DataFrame:
    return pd.DataFrame(
        {"patient": [4, 4, 7, 9], "start": [1.0, 30.5, np.nan, 100.0], "end": [2.5, 31.0, np.nan, 120.0], "record_days": 3650}
    )


EPISODE_CASES = {
    "reversed": ("end", 0.5, r"row 1 \(patient 4\): is not an episode: expected 0 <= start <= end <= record_days"),
    "after the record": ("end", 4000.0, r"row 1 \(patient 4\): is not an episode"),
    "only one end": ("start", np.nan, r"row 1 \(patient 4\): is not an episode: .* or start and end both empty"),
    "inf": ("end", np.inf, r"row 1 \(patient 4\), column 'end': inf is not a finite number"),
    "negative start": ("start", -1.0, r"row 1 \(patient 4\), column 'start': -1 is below 0"),
    "fractional patient": ("patient", 4.5, r"row 1 \(patient 4\.5\), column 'patient': 4\.5 is not a whole number"),
    "negative patient": ("patient", -4, r"row 1 \(patient -4\), column 'patient': -4 is below 0"),
    "text": ("start", "soon", r"row 1 \(patient 4\), column 'start': 'soon' is not a number"),
    "record length": ("record_days", 3649, r"row 1 \(patient 4\), column 'record_days': 3649 is not 3650"),
}


@pytest.mark.parametrize("case", EPISODE_CASES)
def test_each_impossible_episode_is_refused_naming_its_row_column_and_check(episodes, case):
    column, value, message = EPISODE_CASES[case]
    with pytest.raises(PacemakerValidationError) as error:
        schemas.validate_episode_log(_set(episodes, 0, column, value), "episodes.csv", days=3650)
    assert re.search(r"^episodes\.csv: (\d+ problems:\n  )?" + message, str(error.value)), str(error.value)


def test_valid_episode_logs_pass_typed_and_a_patient_without_episodes_is_one_empty_row(episodes):
    checked = schemas.validate_episode_log(episodes, "episodes.csv", days=3650)
    assert checked["patient"].dtype == np.int64 and checked["record_days"].dtype == np.int64
    assert checked["start"].isna().tolist() == [False, False, True, False]
    # simulated episodes carry no record length: optional unless asked for
    schemas.validate_episode_log(episodes.drop(columns="record_days"), "simulated episodes")
    with pytest.raises(PacemakerValidationError, match=r"missing columns \['record_days'\]"):
        schemas.validate_episode_log(episodes.drop(columns="record_days"), "episodes.csv", with_record_days=True)


# --- MNIST images ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((2, 27, 28)), r"images of shape \(2, 27, 28\); expected \(n, 28, 28\)"),
        (np.full((2, 28, 28), np.nan), r"image 1, pixel \(row 0, column 0\): nan is missing or not finite; 2 image"),
        (np.full((1, 784), 256.0), r"image 1, pixel \(row 0, column 0\): 256 is outside the grey levels 0\.\.255"),
        (
            np.full((1, 28, 28, 1), 0.5),
            r"image 1, pixel \(row 0, column 0\): 0\.5 is not an integer grey level \(images scaled to \[0, 1\] must be multiplied by 255\)",
        ),
        (pd.DataFrame(np.zeros((1, 783))), "a table of 783 columns; expected 784"),
    ],
)
def test_images_are_checked_as_pixel_grids(images, message):
    with pytest.raises(MNISTValidationError, match="request: " + message):
        schemas.validate_images(images, "request")


def test_valid_images_come_back_as_uint8_grids():
    images = np.arange(2 * 784).reshape(2, 784) % 256
    checked = schemas.validate_images(pd.DataFrame(images), "request")
    assert checked.dtype == np.uint8 and checked.shape == (2, 28, 28)
    np.testing.assert_array_equal(checked.reshape(2, -1), images)


# --- the catalog's validators --------------------------------------------------------------------


def test_a_catalog_dataset_declaring_the_schema_refuses_a_bad_table_before_writing_it(logs, tmp_path):
    path = tmp_path / "engines.parquet"
    catalog = DataCatalog.from_config(
        {
            "engines": {
                "type": "pandas.ParquetDataset",
                "filepath": str(path),
                "validator": {
                    "class": "autoencoder_pipelines.data.schemas.EngineLogValidator",
                    "options": {"source": "test_FD001.txt"},
                },
            }
        }
    )
    with pytest.raises(DataValidationError, match="dataset 'engines' on save") as error:
        catalog.save("engines", _set(logs, 2, "s_4", np.inf))
    assert "test_FD001.txt: row 3 (unit 1, cycle 3), column 's_4': inf is not a finite number" in str(error.value.__cause__)
    assert not path.exists()
    catalog.save("engines", logs.astype({"unit_nr": float}))
    assert catalog.load("engines")["unit_nr"].dtype == np.int64  # saved as the schema typed it
