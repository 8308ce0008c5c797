"""Labelled patients that arrive (``af_arrivals``): checked, quarantined with a report when
they break the labelled episode logs' schema, trained on or held out for evaluation, and in
the lineage; nothing is lost."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from autoencoder_pipelines.data.arrivals import held_out
from autoencoder_pipelines.data.pacemaker import simulate_episodes
from tests.pipelines.kedro_project import latest, make_project, run_pipeline

DAYS = 750  # conf/test's record length


def _labelled(ids: range, label: int, beta_na: float, alpha: float, seed: int) -> pd.DataFrame:
    """Episode logs of patients ``ids`` of class ``label`` (a patient without episodes: one empty row)."""
    episodes = simulate_episodes(len(ids), beta_na, alpha, DAYS, np.random.default_rng(seed))
    episodes["patient"] = episodes["patient"] + ids.start
    quiet = sorted(set(ids) - set(episodes["patient"]))
    rows = pd.concat([episodes, pd.DataFrame({"patient": quiet, "start": np.nan, "end": np.nan})], ignore_index=True)
    return rows.assign(record_days=DAYS, **{"class": label})


@pytest.mark.slow
def test_labelled_patients_arrive_trained_on_held_out_or_quarantined(tmp_path, monkeypatch):
    arrivals = tmp_path / "arrivals"
    (arrivals / "2026-03-02").mkdir(parents=True)
    (arrivals / "2026-03-09").mkdir(parents=True)
    good = pd.concat(
        [_labelled(range(5000, 5010), 0, 10.0, 0.998, seed=1), _labelled(range(5010, 5020), 5, 180.0, 0.999, seed=2)]
    )
    good.to_csv(arrivals / "2026-03-02" / "labelled.csv", index=False)
    bad = _labelled(range(6000, 6005), 1, 10.0, 0.999, seed=3)
    bad.loc[bad.index[0], "end"] = bad["start"].iloc[0] - 1.0  # an episode ending before it starts
    bad.to_csv(arrivals / "2026-03-09" / "labelled.csv", index=False)
    poisoned = (arrivals / "2026-03-09" / "labelled.csv").read_bytes()
    project = make_project(tmp_path, monkeypatch, AF_ARRIVALS_DIR=str(arrivals))

    catalog = run_pipeline(project, "af_rvae")

    report = json.loads((arrivals / "2026-03-09" / "labelled.csv.quarantine.json").read_text())
    assert "row 1 (patient 6000): is not an episode" in report["problems"][0]
    assert (arrivals / "2026-03-09" / "labelled.csv").read_bytes() == poisoned  # kept byte for byte
    arrived = catalog.load("af_rvae.arrived_patients")
    assert sorted(arrived["source_id"]) == list(range(5000, 5020)) and set(arrived["partition"]) == {"2026-03-02/labelled.csv"}
    held = held_out(arrived["source_id"], 0.2, 0)
    np.testing.assert_array_equal(arrived["holdout"], held)
    # conf/test simulates 20 patients per class: 72 train, 24 validation, 24 test, then the arrivals
    assert len(catalog.load("af_rvae.x_train")) == 72 + (~held).sum() and len(catalog.load("af_rvae.x_test")) == 24 + held.sum()
    y_test = catalog.load("af_rvae.y_test")
    np.testing.assert_array_equal(y_test[24:], arrived["class"][held])

    lineage = json.loads(latest(project / "data/08_reporting/af_rvae/lineage.json").read_text())
    assert lineage["train"].startswith("source/simulation@") and "2026-03-02/labelled.csv@" in lineage["train"]
    assert lineage["quarantined"].startswith("2026-03-09/labelled.csv@") and "2026-03-09" not in lineage["train"]
    # nothing lost: each arrival is in the lineage or quarantined with its report
    for partition in ("2026-03-02/labelled.csv", "2026-03-09/labelled.csv"):
        listed = any(e["partition"] == partition for side in ("train", "evaluation") for e in lineage["partitions"][side])
        assert listed != (arrivals / f"{partition}.quarantine.json").exists(), partition


def test_labelled_logs_must_give_each_patient_one_known_class():
    from autoencoder_pipelines.data.pacemaker import PacemakerValidationError
    from autoencoder_pipelines.data.schemas import validate_episode_log

    logs = _labelled(range(1, 4), 2, 30.0, 0.998, seed=4)
    assert validate_episode_log(logs, "labelled.csv", days=DAYS, n_classes=6)["class"].dtype == np.int64
    two = logs.copy()
    two.loc[two.index[two["patient"] == 1][-1], "class"] = 3
    with pytest.raises(PacemakerValidationError, match=r"\(patient 1\): gives its patient another class"):
        validate_episode_log(two, "labelled.csv", days=DAYS, n_classes=6)
    with pytest.raises(PacemakerValidationError, match=r"column 'class': 6 is above 5"):
        validate_episode_log(logs.assign(**{"class": 6}), "labelled.csv", days=DAYS, n_classes=6)
