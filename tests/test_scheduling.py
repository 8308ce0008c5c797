"""The retraining rule's view of arrivals (``scheduling``): what counts as new."""

from __future__ import annotations

import hashlib

from autoencoder_pipelines.scheduling import WATCHED, _check, new_partitions, quarantine_reports


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_a_partition_is_new_until_a_version_learned_from_it_or_it_is_quarantined():
    files = {
        "2026-01-05/failed_FD001.txt": b"learned by the champion",
        "2026-01-12/failed_FD001.txt": b"learned by a challenger kept out",
        "2026-01-19/failed_FD001.txt": b"quarantined",
        "2026-01-26/failed_FD001.txt": b"new",
        "2026-01-26/in_service_FD001.txt": b"not trained on",
        "2026-02-02/failed_FD001.txt": b"redelivered with other bytes",
    }
    partitions = {p: (lambda content=content: content) for p, content in files.items()}
    known = {
        ("2026-01-05/failed_FD001.txt", _sha(files["2026-01-05/failed_FD001.txt"])[:12]),
        ("2026-01-12/failed_FD001.txt", _sha(files["2026-01-12/failed_FD001.txt"])[:12]),
        ("2026-02-02/failed_FD001.txt", _sha(b"the first delivery")[:12]),
    }
    quarantine = {"2026-01-19/failed_FD001.txt": _sha(files["2026-01-19/failed_FD001.txt"])}
    assert new_partitions(partitions, "failed_FD001.txt", known, quarantine) == [
        "2026-01-26/failed_FD001.txt",
        "2026-02-02/failed_FD001.txt",
    ]


def test_quarantine_reports_give_each_partition_s_sha256_and_each_retraining_watches_its_files():
    reports = {"2026-01-19/failed_FD001.txt.quarantine": lambda: {"partition": "2026-01-19/failed_FD001.txt", "sha256": "ab"}}
    assert quarantine_reports(reports) == {"2026-01-19/failed_FD001.txt": "ab"}
    assert WATCHED["rul_vae_retrain"].suffix({"rul_vae": {"data": {"subset": "FD003"}}}) == "failed_FD003.txt"
    assert WATCHED["af_rvae_retrain"].suffix({}) == "labelled.csv"


class _Catalog:
    """What the retraining rule reads of the catalog: a champion, no arrival, no quarantine,
    and the newest drift report of the batches the champion scored."""

    def __init__(self, drift: dict | None):
        self.data = {
            "rul_vae.champion": type("Champion", (), {"version": "3"})(),
            "cmapss_quarantine": {},
            "cmapss_arrivals": {},
            "rul_inference.drift_report": drift,
        }

    def load(self, name):
        return self.data[name]

    def exists(self, name):
        return self.data.get(name) is not None

    def get(self, name):
        return type("Dataset", (), {"registered_model_name": "rul_vae_FD001"})()


def test_a_drift_report_of_the_champions_batches_recommending_retraining_triggers_it(monkeypatch):
    monkeypatch.setattr("autoencoder_pipelines.scheduling.learned", lambda name: set())
    params = {"rul_vae": {"data": {"subset": "FD001"}}}
    drifted = {"retraining_recommended": True, "model_version": "3", "flagged": 47, "n_current": 100, "expected_flag_rate": 0.05}
    result = _check(_Catalog(drifted), params, "rul_vae_retrain")
    assert result["retrain"] is True and result["reason"] == (
        "the newest drift report of batches champion version 3 scored recommends retraining "
        "(47 of its 100 items out of distribution, 5% expected)"
    )
    # no drift, or a report of an earlier champion's batches: nothing new
    for report in ({**drifted, "retraining_recommended": False}, {**drifted, "model_version": "2"}, None):
        result = _check(_Catalog(report), params, "rul_vae_retrain")
        assert result["retrain"] is False and result["reason"].startswith("nothing new since champion version 3")


def test_a_drift_report_written_before_the_flagged_items_verdict_still_gives_its_reason(monkeypatch):
    monkeypatch.setattr("autoencoder_pipelines.scheduling.learned", lambda name: set())
    former = {"retraining_recommended": True, "model_version": "3", "drifted_share": 0.6}
    result = _check(_Catalog(former), {"rul_vae": {"data": {"subset": "FD001"}}}, "rul_vae_retrain")
    assert result["retrain"] is True and result["reason"].endswith("(60% of its features drifted, by the former rule)")
