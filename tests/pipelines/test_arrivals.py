"""Engines that arrive (``cmapss_arrivals``): checked on arrival, quarantined with a report
when they break the schema, trained on or held out for evaluation, and in the lineage of the
model trained on them; nothing is lost."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from autoencoder_pipelines.data.arrivals import held_out
from autoencoder_pipelines.registry import load_champion
from tests.conftest import make_engines, to_text, write_cmapss
from tests.pipelines.kedro_project import latest, make_project, run_pipeline

REPORTS = "data/08_reporting/rul_vae/FD001"


def _arrive(folder, date: str, units: range, seed: int, poison: bool = False) -> bytes:
    """Run-to-failure histories of engines ``units`` arriving on ``date``; ``poison``: one
    sensor value no engine can have."""
    engines, _ = make_engines(len(units), 40, 70, seed=seed)
    engines["unit_nr"] = engines["unit_nr"] + units.start - 1
    if poison:
        engines.loc[5, "s_4"] = 1e308
    content = to_text(engines)
    (folder / date).mkdir(parents=True, exist_ok=True)
    (folder / date / "failed_FD001.txt").write_bytes(content)
    return content


@pytest.fixture
def project(tmp_path, monkeypatch):
    arrivals = tmp_path / "arrivals"
    _arrive(arrivals, "2026-01-05", range(101, 121), seed=5)
    poisoned = _arrive(arrivals, "2026-01-12", range(121, 131), seed=6, poison=True)
    _arrive(arrivals, "2026-01-19", range(131, 141), seed=7)
    (arrivals / "2026-01-19" / "in_service_FD001.txt").write_bytes(b"not read by training")
    return (
        make_project(
            tmp_path, monkeypatch, CMAPSS_DATA_DIR=str(write_cmapss(tmp_path / "raw")), CMAPSS_ARRIVALS_DIR=str(arrivals)
        ),
        arrivals,
        poisoned,
    )


@pytest.mark.slow
def test_arrivals_are_trained_on_held_out_or_quarantined_and_nothing_is_lost(project):
    project, arrivals, poisoned = project
    catalog = run_pipeline(project, "rul_vae_retrain")

    # the poisoned arrival: quarantined, untouched, its report beside it naming row, column and check
    report = json.loads((arrivals / "2026-01-12" / "failed_FD001.txt.quarantine.json").read_text())
    assert report["partition"] == "2026-01-12/failed_FD001.txt"
    assert "row 6 (unit 121, cycle 6), column 's_4': 1e+308 is outside the envelope" in report["problems"][0]
    assert (arrivals / "2026-01-12" / "failed_FD001.txt").read_bytes() == poisoned  # kept byte for byte

    # the good arrivals: each engine trained on, or held out by the seeded hash and evaluated on
    train = catalog.load("cmapss_train")
    truth = catalog.load("rul_vae.evaluation_truth")
    arrived = set(range(101, 121)) | set(range(131, 141))
    held = {u for u in arrived if held_out([u], 0.2, 0)[0]}
    assert held and held != arrived
    assert set(train["unit_nr"]) == set(range(1, 13)) | (arrived - held)  # the source file's 12 engines and the rest
    assert set(truth["item"]) == {f"test:{u}" for u in range(1, 7)} | {f"arrival:{u}" for u in held}
    decision = json.loads(latest(project / REPORTS / "promotion_decision.json").read_text())
    items = pd.read_parquet(latest(project / "data/07_model_output/rul_vae/FD001/test_item_scores.parquet"))
    assert set(items["item"]) == set(truth["item"]) and decision["promote"] is True

    # lineage: in the run's tags, the registered version's tags and its metadata; the
    # quarantined partition in none of the lists a model was trained or evaluated on
    lineage = json.loads(latest(project / REPORTS / "lineage.json").read_text())
    assert lineage["train"].split(";")[0].startswith("source/train_FD001.txt@")
    assert "2026-01-05/failed_FD001.txt@" in lineage["train"] and "2026-01-19/failed_FD001.txt@" in lineage["train"]
    assert "2026-01-12" not in lineage["train"] + lineage["evaluation"]
    assert lineage["quarantined"].startswith("2026-01-12/failed_FD001.txt@")
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    run = client.get_run(client.get_model_version("rul_vae_FD001", "1").run_id)
    assert run.data.tags["lineage.train"] == lineage["train"] and run.data.tags["lineage.quarantined"] == lineage["quarantined"]
    version = client.get_model_version("rul_vae_FD001", "1")
    assert version.tags["lineage.train"] == lineage["train"] and version.tags["lineage.evaluation"] == lineage["evaluation"]
    assert load_champion("rul_vae_FD001", client=client).metadata["lineage"]["train"] == lineage["train"]
    assert "cmapss_quarantine.json" in {a.path for a in client.list_artifacts(run.info.run_id)}

    # nothing lost: every arrival is in the model's lineage or quarantined with its report
    partitions = sorted(f"{p.parent.name}/{p.name}" for p in arrivals.glob("*/failed_FD001.txt"))
    listed = {entry["partition"] for side in ("train", "evaluation") for entry in lineage["partitions"][side]}
    for partition in partitions:
        in_lineage = partition in listed
        quarantined = (arrivals / f"{partition}.quarantine.json").exists()
        assert in_lineage != quarantined, partition
    assert len(partitions) == 3


@pytest.mark.slow
def test_without_the_source_file_every_engine_comes_from_the_arrivals(project):
    project, arrivals, _ = project
    catalog = run_pipeline(project, "rul_vae", rul_vae={"arrivals": {"include_source": False, "holdout_fraction": 0.0}})
    assert set(catalog.load("cmapss_train")["unit_nr"]) == set(range(101, 121)) | set(range(131, 141))
    manifest = catalog.load("rul_vae.arrivals_manifest")
    assert [e["partition"] for e in manifest["train"]] == ["2026-01-05/failed_FD001.txt", "2026-01-19/failed_FD001.txt"]
    assert manifest["holdout"] == [] and [q["partition"] for q in manifest["quarantined"]] == ["2026-01-12/failed_FD001.txt"]


def test_an_engine_that_arrives_twice_quarantines_the_later_partition(tmp_path):
    from autoencoder_pipelines.data.arrivals import take_partitions
    from autoencoder_pipelines.data.cmapss import COLUMNS, CMAPSSValidationError
    from autoencoder_pipelines.data.cmapss_files import parse_table
    from autoencoder_pipelines.data.schemas import validate_engine_log

    first = _arrive(tmp_path, "2026-02-01", range(1, 4), seed=1)
    again = _arrive(tmp_path, "2026-02-08", range(3, 6), seed=2)  # unit 3 again
    partitions = {"2026-02-08/failed_FD001.txt": lambda: again, "2026-02-01/failed_FD001.txt": lambda: first}
    read = lambda content, name: validate_engine_log(parse_table(content, name, COLUMNS), name)  # noqa: E731
    accepted, quarantined = take_partitions(partitions, "failed_FD001.txt", read, "unit_nr", set(), (CMAPSSValidationError,))
    assert [a["id"] for a in accepted] == ["2026-02-01/failed_FD001.txt"]  # in date order, not dict order
    assert quarantined["2026-02-08/failed_FD001.txt"]["problems"] == [
        "2026-02-08/failed_FD001.txt: unit_nr [3] already arrived before (ids must be new); 1 repeated."
    ]


def test_the_holdout_rule_keeps_an_engine_on_one_side_whatever_else_arrives():
    units = np.arange(1, 2001)
    held = held_out(units, 0.2, seed=0)
    assert 0.17 < held.mean() < 0.23
    np.testing.assert_array_equal(held_out(units[::-1], 0.2, seed=0), held[::-1])  # per id, not per position
    assert not np.array_equal(held_out(units, 0.2, seed=1), held)
