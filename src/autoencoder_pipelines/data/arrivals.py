"""Data that arrive: dated partitions, checked on arrival, quarantined when they fail, and a
seeded rule that holds some arriving items out for evaluation.

New data land as ``<arrivals folder>/<date>/<file>`` (the catalog reads them with
kedro-datasets' ``PartitionedDataset``; partition ids look like ``2026-01-05/failed_FD001.txt``).
Each partition is checked with its format's declared schema (``schemas``) on every run
that reads it; one that fails, or that repeats an item an earlier partition brought, is
**quarantined**: left out, untouched, with a report (the file, and each problem's row,
column and check) written beside it. The others are used, in date order.

Pure functions: no Kedro, no I/O (the catalog loads the partitions and saves the reports).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

SOURCE = "source"  # the partition id prefix of the source files (today's single files: the first arrival)


class ArrivalsConfig(BaseModel):
    """``params:<task>.arrivals``: what arriving data are used for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    include_source: bool = Field(
        default=True, description="train on the source files too (the first arrival); false when every engine arrives dated"
    )
    holdout_fraction: float = Field(
        default=0.2, ge=0, lt=1, description="share of arriving items held out for evaluation (never trained on)"
    )
    holdout_seed: int = Field(default=0, ge=0, description="seed of the hash that holds items out")


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def held_out(items: Iterable, fraction: float, seed: int) -> np.ndarray:
    """Whether each item (a unit id, a patient id) is held out for evaluation: a seeded hash
    of the id below ``fraction``. The same id is always on the same side, whichever
    partition brings it and whenever."""

    def share(item) -> float:
        digest = hashlib.blake2b(f"{seed}:{item}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    return np.array([share(item) < fraction for item in items], dtype=bool)


def partition_order(partition_id: str) -> tuple[str, str]:
    """Arrivals are used in date order (the partition's folder), then by file name."""
    date, _, name = partition_id.partition("/")
    return date, name


class Quarantine(Exception):
    """A partition that cannot be used; the message says why, problem by problem."""


def take_partitions(
    partitions: dict[str, Callable[[], bytes]],
    suffix: str,
    read: Callable[[bytes, str], pd.DataFrame],
    item_column: str,
    seen: set,
    refused: tuple[type[Exception], ...],
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The partitions whose file name ends with ``suffix``, read and checked in date order.

    Args:
        partitions: partition id -> a function loading its bytes (``PartitionedDataset``).
        suffix: which files of a partition these are (``failed_FD001.txt``).
        read: parses and checks one file's bytes, named; raises one of ``refused``.
        item_column: the column of the items (``unit_nr``, ``patient``), which must be
            new: an item an earlier partition (or ``seen``) brought quarantines the partition.
        seen: items already taken (the source files'); updated.
        refused: the errors of a file that breaks its schema.

    Returns:
        The accepted partitions (``id``, ``sha256``, ``frame``, in date order) and the
        quarantined ones' reports by partition id (``partition``, ``sha256``, ``problems``).
    """
    accepted, quarantined = [], {}
    for partition_id in sorted((p for p in partitions if p.endswith(suffix)), key=partition_order):
        content = partitions[partition_id]()
        digest = sha256(content)
        try:
            frame = read(content, partition_id)
            items = set(frame[item_column].unique())
            repeated = sorted(int(i) if isinstance(i, (int, np.integer)) else i for i in items & seen)
            if repeated:
                raise Quarantine(
                    f"{partition_id}: {item_column} {repeated[:5]} already arrived before (ids must be new); "
                    f"{len(repeated)} repeated."
                )
        except (*refused, Quarantine) as error:
            quarantined[partition_id] = {"partition": partition_id, "sha256": digest, "problems": str(error).splitlines()}
            continue
        seen |= items
        accepted.append({"id": partition_id, "sha256": digest, "frame": frame})
    return accepted, quarantined


def report_name(partition_id: str) -> str:
    """The quarantine report's partition id: beside the file, ``<file>.quarantine`` (+ .json)."""
    return f"{partition_id}.quarantine"


def summary(entries: list[dict[str, Any]]) -> str:
    """``id@sha256[:12]`` of each entry, joined by ``;``: a lineage line for a run tag."""
    return ";".join(f"{e['partition']}@{e['sha256'][:12]}" for e in entries)
