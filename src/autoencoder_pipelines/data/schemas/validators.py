"""The formats as Kedro catalog validators (``validator:`` in ``conf/base/catalog.yml``):
each names its source, so a refused table reads like any other refused input."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from autoencoder_pipelines.data.cmapss import COLUMNS
from autoencoder_pipelines.data.schemas.cmapss import (
    validate_engine_log,
    validate_rul_table,
)
from autoencoder_pipelines.data.schemas.pacemaker import validate_episode_log


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
