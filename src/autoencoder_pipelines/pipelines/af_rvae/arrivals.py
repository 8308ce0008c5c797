"""Nodes of ``af_rvae``'s ingestion stage for patients that arrive: newly labelled patients'
episode logs in dated partitions (``<date>/labelled.csv``), checked against the labelled
episode logs' schema, quarantined when they fail; each patient trained on or held out for
evaluation by a seeded hash of its id; and the run's lineage."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

import numpy as np
import pandas as pd

from autoencoder_pipelines.data import arrivals, pacemaker, schemas
from autoencoder_pipelines.data.arrivals import ArrivalsConfig
from autoencoder_pipelines.data.config import AFSeriesConfig, PacemakerSimulationConfig
from autoencoder_pipelines.data.pacemaker import PacemakerValidationError

LABELLED = "labelled.csv"  # the file of a partition that brings labelled patients


def take_arrivals(
    partitions: dict[str, Callable[[], bytes]],
    simulation: PacemakerSimulationConfig,
    series: AFSeriesConfig,
    config: ArrivalsConfig,
) -> tuple[pd.DataFrame, np.ndarray, dict, dict]:
    """The labelled patients that arrived (``<date>/labelled.csv``: episode logs with each
    patient's ``class``), each partition checked against the labelled episode logs' schema
    (records as long as the simulation's, classes of the simulation) and quarantined when it
    fails or brings a patient that arrived before.

    Returns:
        The arrived patients (``source_id``, ``class``, ``holdout``: held out for
        evaluation by the seeded hash, ``partition``), their burden series ``(n, steps)``
        float32 in the same order, the manifest (``train``, ``holdout``, ``quarantined``) and
        the quarantine reports (saved beside each file).
    """
    classes = len(simulation.classes)

    def read(content: bytes, partition: str) -> pd.DataFrame:
        try:
            frame = pd.read_csv(io.BytesIO(content))
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise PacemakerValidationError(f"{partition}: cannot read the CSV table ({error}).") from None
        return schemas.validate_episode_log(frame, partition, days=simulation.days, n_classes=classes)

    accepted, quarantined = arrivals.take_partitions(partitions, LABELLED, read, "patient", set(), (PacemakerValidationError,))
    matrix = pacemaker.smoothing_matrix(simulation.days, series.fwhm_days, series.block_days).astype(np.float32)
    patients, blocks, manifest = [], [], {"train": [], "holdout": [], "quarantined": list(quarantined.values())}
    for partition in accepted:
        log = partition["frame"]
        episodes, ids = pacemaker.episodes_by_patient(log)
        labels = log.groupby("patient")["class"].first().loc[ids].to_numpy(np.int64)
        hold = arrivals.held_out(ids, config.holdout_fraction, config.holdout_seed)
        patients.append(pd.DataFrame({"source_id": ids, "class": labels, "holdout": hold, "partition": partition["id"]}))
        blocks.append(pacemaker.burden_series(episodes, len(ids), simulation.days, matrix))
        for side, mask in (("train", ~hold), ("holdout", hold)):
            if mask.any():
                manifest[side].append(
                    {
                        "partition": partition["id"],
                        "sha256": partition["sha256"],
                        "patients": int(mask.sum()),
                        "ids": ids[mask].tolist(),
                    }
                )
    steps = matrix.shape[1]
    arrived = (
        pd.concat(patients, ignore_index=True)
        if patients
        else pd.DataFrame(
            {
                "source_id": pd.Series(dtype=np.int64),
                "class": pd.Series(dtype=np.int64),
                "holdout": pd.Series(dtype=bool),
                "partition": pd.Series(dtype=object),
            }
        )
    )
    series_array = np.concatenate(blocks) if blocks else np.empty((0, steps), np.float32)
    reports = {arrivals.report_name(p): report for p, report in quarantined.items()}
    return arrived, series_array, manifest, reports


def record_lineage(simulation: PacemakerSimulationConfig, manifest: dict) -> dict:
    """What the run's model is trained and evaluated on: the simulated patients (named by a
    hash of the simulation's settings, which determine them) and the arrived partitions."""
    settings = simulation.model_dump_json()
    source = {"partition": f"{arrivals.SOURCE}/simulation", "sha256": hashlib.sha256(settings.encode()).hexdigest()}
    train, evaluation = [source, *manifest["train"]], [source, *manifest["holdout"]]
    return {
        "train": arrivals.summary(train),
        "evaluation": arrivals.summary(evaluation),
        "quarantined": arrivals.summary(manifest["quarantined"]) or "none",
        "partitions": {"train": train, "evaluation": evaluation, "quarantined": manifest["quarantined"]},
    }
