"""Reading the C-MAPSS files: the whitespace text, checksums, files with a header."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from autoencoder_pipelines.data import cmapss_files
from autoencoder_pipelines.data.cmapss import COLUMNS, CMAPSSValidationError
from tests.conftest import to_text


def test_parse_table_reads_26_named_float_columns(engines):
    train, _, _ = engines
    parsed = cmapss_files.parse_table(to_text(train), "train_FD001.txt", COLUMNS)
    assert list(parsed.columns) == list(COLUMNS) and (parsed.dtypes == np.float64).all()
    np.testing.assert_allclose(parsed.to_numpy(), train.to_numpy(), atol=1e-4)


def test_parse_table_reads_any_whitespace_like_single_spaces(engines):
    train, _, _ = engines
    single = to_text(train)  # the NASA layout: single spaces
    ragged = single.replace(b" ", b" \t  ").replace(b"\n", b"   \n")
    pd.testing.assert_frame_equal(
        cmapss_files.parse_table(ragged, "train_FD001.txt", COLUMNS),
        cmapss_files.parse_table(single, "train_FD001.txt", COLUMNS),
    )


GOOD_LINE = " ".join(["1", "1"] + ["0.5"] * 24)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        ((GOOD_LINE + "\n" + " ".join(["1", "2"] + ["0.5"] * 23) + "\n").encode(), r"found 26 \(line 2 is short\)"),
        ((GOOD_LINE + " 7\n").encode(), "expected 26 whitespace-separated columns"),
    ],
)
def test_parse_table_rejects_files_of_another_layout_naming_them(content, message):
    with pytest.raises(CMAPSSValidationError, match="train_FD001.txt") as err:
        cmapss_files.parse_table(content, "train_FD001.txt", COLUMNS)
    assert re.search(message, str(err.value))


def test_parse_table_keeps_a_value_that_is_not_a_number_for_the_schema_to_name():
    parsed = cmapss_files.parse_table((GOOD_LINE.replace("0.5", "abc", 1) + "\n").encode(), "x.txt", COLUMNS)
    assert parsed["setting_1"].tolist() == ["abc"] and parsed["s_1"].dtype == np.float64


def test_verify_checksum_accepts_unknown_files_and_rejects_altered_known_ones():
    assert len(cmapss_files.verify_checksum(b"anything", "train_FD002.txt")) == 64
    with pytest.raises(CMAPSSValidationError, match="train_FD001.txt: sha256 .* does not match"):
        cmapss_files.verify_checksum(b"tampered", "train_FD001.txt")


def test_read_engine_file_takes_the_nasa_layout_or_a_header(engines):
    _, test, _ = engines
    nasa = cmapss_files.read_engine_file(to_text(test), "engines.txt")
    with_header = cmapss_files.read_engine_file(test.to_csv(index=False).encode(), "engines.csv")
    np.testing.assert_allclose(nasa.to_numpy(), with_header[list(COLUMNS)].to_numpy(), atol=1e-4)
