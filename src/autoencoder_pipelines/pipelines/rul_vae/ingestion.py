"""Nodes of ``rul_vae``'s ingestion stage: the source files, the engines that arrived since
(dated partitions, quarantined when they break the schema), the evaluation engines, and the
run's lineage."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from autoencoder_pipelines.data import arrivals, cmapss, cmapss_files, schemas
from autoencoder_pipelines.data.arrivals import ArrivalsConfig
from autoencoder_pipelines.data.cmapss import CMAPSSValidationError
from autoencoder_pipelines.data.config import CMAPSSConfig

HOLDOUT_UNIT_OFFSET = 1_000_000  # arriving engines held out for evaluation: unit_nr + this, apart from the test file's


def _read_engine_file(raw: bytes, name: str, data: CMAPSSConfig) -> pd.DataFrame:
    if data.verify_checksums:
        cmapss_files.verify_checksum(raw, name)
    return cmapss_files.parse_table(raw, name, cmapss.COLUMNS)


def ingest_train(
    raw: bytes, partitions: dict[str, Callable[[], bytes]], data: CMAPSSConfig, config: ArrivalsConfig
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict, dict]:
    """The training engines: the source file ``train_<subset>.txt`` (verified, checked; the
    first arrival) and the run-to-failure histories that arrived since
    (``<date>/failed_<subset>.txt``), each checked against the engine logs' schema.

    A partition that breaks the schema, or brings an engine that already arrived, is
    quarantined: left out, with its report. Arriving engines that the seeded hash holds
    out (``holdout_fraction``) are not trained on: each is cut at a seeded cycle, as test
    engines are, to be evaluated on.

    Returns:
        The training engines, the held-out engines' cut logs and their true RUL, the
        arrivals' manifest (``train``, ``holdout``, ``quarantined`` entries) and the
        quarantine reports (partition id -> report, saved beside each file).

    Raises:
        CMAPSSValidationError: the source file breaks its checksum or schema, or no
            training engine is left.
    """
    seen: set = set()
    frames, manifest = [], {"train": [], "holdout": [], "quarantined": []}
    name = cmapss_files.file_name("train", data.subset)
    if config.include_source:
        source = schemas.validate_engine_log(_read_engine_file(raw, name, data), name)
        frames.append(source)
        seen |= set(source["unit_nr"].unique())
        manifest["train"].append(_entry(f"{arrivals.SOURCE}/{name}", arrivals.sha256(raw), source))

    def read(content: bytes, partition: str) -> pd.DataFrame:
        return schemas.validate_engine_log(cmapss_files.parse_table(content, partition, cmapss.COLUMNS), partition)

    accepted, quarantined = arrivals.take_partitions(
        partitions, f"failed_{data.subset}.txt", read, "unit_nr", seen, (CMAPSSValidationError,)
    )
    held = []
    for partition in accepted:
        frame = partition["frame"]
        hold = frame["unit_nr"].isin(
            frame["unit_nr"].unique()[arrivals.held_out(frame["unit_nr"].unique(), config.holdout_fraction, config.holdout_seed)]
        )
        if (~hold).any():
            frames.append(frame[~hold])
            manifest["train"].append(_entry(partition["id"], partition["sha256"], frame[~hold]))
        if hold.any():
            held.append(frame[hold])
            manifest["holdout"].append(_entry(partition["id"], partition["sha256"], frame[hold]))
    manifest["quarantined"] = [{k: v for k, v in report.items()} for report in quarantined.values()]
    if not frames:
        raise CMAPSSValidationError(
            f"No training engines: {'no arrival was accepted' if partitions else 'no arrival yet'} and "
            f"arrivals.include_source is false (params rul_vae.arrivals); quarantined: {sorted(quarantined) or 'none'}."
        )
    train = pd.concat(frames, ignore_index=True).sort_values(["unit_nr", "time_cycles"], kind="stable").reset_index(drop=True)
    logs, truth = cmapss.cut_engines(
        pd.concat(held, ignore_index=True) if held else train.iloc[:0], data.window, config.holdout_seed
    )
    reports = {arrivals.report_name(partition): report for partition, report in quarantined.items()}
    return train, logs, truth, manifest, reports


def _entry(partition: str, digest: str, frame: pd.DataFrame) -> dict:
    units = np.sort(frame["unit_nr"].unique())
    return {"partition": partition, "sha256": digest, "engines": len(units), "units": units.tolist(), "rows": len(frame)}


def ingest_test(raw: bytes, data: CMAPSSConfig) -> pd.DataFrame:
    """Verify and parse ``test_<subset>.txt``; short engines are padded later."""
    return _read_engine_file(raw, cmapss_files.file_name("test", data.subset), data)


def ingest_test_rul(raw: bytes, test: pd.DataFrame, data: CMAPSSConfig) -> pd.DataFrame:
    """Verify and parse ``RUL_<subset>.txt``: one true RUL per test engine (the catalog
    checks the values: ``schemas.RULTableValidator``)."""
    name = cmapss_files.file_name("rul", data.subset)
    if data.verify_checksums:
        cmapss_files.verify_checksum(raw, name)
    rul = cmapss_files.parse_table(raw, name, [cmapss.RUL_COLUMN])
    return cmapss.align_test_rul(rul, test, name)


def evaluation_engines(test: pd.DataFrame, holdout: pd.DataFrame) -> pd.DataFrame:
    """The evaluation engines' logs: the test file's and the arriving engines held out,
    renumbered ``unit + HOLDOUT_UNIT_OFFSET`` so the two files' ids never meet."""
    return pd.concat([test, holdout.assign(unit_nr=holdout["unit_nr"] + HOLDOUT_UNIT_OFFSET)], ignore_index=True)


def evaluation_truth(test_rul: pd.DataFrame, holdout_rul: pd.DataFrame) -> pd.DataFrame:
    """The evaluation engines' true RUL and their items: ``test:<unit>`` for the test
    file's, ``arrival:<unit>`` for the held-out arrivals' (their own unit ids)."""
    truth = pd.concat(
        [
            test_rul.assign(item=[f"test:{u}" for u in test_rul["unit_nr"]]),
            holdout_rul.assign(
                item=[f"arrival:{u}" for u in holdout_rul["unit_nr"]], unit_nr=holdout_rul["unit_nr"] + HOLDOUT_UNIT_OFFSET
            ),
        ],
        ignore_index=True,
    )
    return truth[["unit_nr", cmapss.RUL_COLUMN, "item"]]


def record_lineage(test_raw: bytes, test_rul_raw: bytes, manifest: dict, data: CMAPSSConfig) -> dict:
    """What the run's model is trained and evaluated on: one line each (``partition@sha256``,
    for run and version tags) and the manifest's entries. A quarantined partition is in
    neither line."""
    test = {"partition": f"{arrivals.SOURCE}/{cmapss_files.file_name('test', data.subset)}", "sha256": arrivals.sha256(test_raw)}
    truth = {
        "partition": f"{arrivals.SOURCE}/{cmapss_files.file_name('rul', data.subset)}",
        "sha256": arrivals.sha256(test_rul_raw),
    }
    evaluation = [test, truth, *manifest["holdout"]]
    return {
        "train": arrivals.summary(manifest["train"]),
        "evaluation": arrivals.summary(evaluation),
        "quarantined": arrivals.summary(manifest["quarantined"]) or "none",
        "partitions": {"train": manifest["train"], "evaluation": evaluation, "quarantined": manifest["quarantined"]},
    }
