"""The retraining rule's view of arrivals (``scheduling``): what counts as new."""

from __future__ import annotations

import hashlib

from autoencoder_pipelines.scheduling import WATCHED, new_partitions, quarantine_reports


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
