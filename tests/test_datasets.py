"""The project's catalog datasets."""

from __future__ import annotations

import functools
import http.server
import threading

import numpy as np
import pytest
from kedro.io.core import DatasetError, Version

from autoencoder_pipelines.datasets import NumpyDataset, RawFileDataset


def test_numpy_dataset_round_trips_versions_without_pickles(tmp_path):
    path = str(tmp_path / "x.npy")
    first, second = np.arange(6.0).reshape(2, 3), np.ones((4, 2), np.float32)
    NumpyDataset(filepath=path, version=Version(None, "2026-01-01T00.00.00.000Z")).save(first)
    NumpyDataset(filepath=path, version=Version(None, "2026-01-02T00.00.00.000Z")).save(second)
    latest = NumpyDataset(filepath=path, version=Version(None, None)).load()
    np.testing.assert_array_equal(latest, second)
    assert latest.dtype == np.float32
    older = NumpyDataset(filepath=path, version=Version("2026-01-01T00.00.00.000Z", None)).load()
    np.testing.assert_array_equal(older, first)
    with pytest.raises(DatasetError, match="numeric NumPy arrays"):
        NumpyDataset(filepath=path).save(np.array([object()]))


def test_raw_file_dataset_reads_bytes_and_names_a_missing_file(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"1 2 3\n")
    assert RawFileDataset(filepath=str(tmp_path / "a.txt")).load() == b"1 2 3\n"
    with pytest.raises(DatasetError, match=r"Raw file not found: .*missing\.txt"):
        RawFileDataset(filepath=str(tmp_path / "missing.txt")).load()
    with pytest.raises(DatasetError, match="read-only"):
        RawFileDataset(filepath=str(tmp_path / "a.txt")).save(b"")


@pytest.fixture
def http_folder(tmp_path):
    """Serve a folder over HTTP on the loopback interface; count the requests."""
    served = tmp_path / "served"
    served.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=served))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()


def test_raw_file_dataset_downloads_a_remote_file_once_into_the_cache(http_folder, tmp_path):
    served, url, requests = http_folder
    (served / "train_FD001.txt").write_bytes(b"1 1 0.5\n")
    cache = tmp_path / "cache"
    dataset = RawFileDataset(filepath=f"{url}/train_FD001.txt", cache_dir=str(cache))
    assert dataset.load() == b"1 1 0.5\n"
    downloads = [r for r in requests if r.endswith("train_FD001.txt")]
    assert (cache / "train_FD001.txt").read_bytes() == b"1 1 0.5\n"
    # A new dataset object (a new run) reads the cached copy, not the server.
    assert RawFileDataset(filepath=f"{url}/train_FD001.txt", cache_dir=str(cache)).load() == b"1 1 0.5\n"
    assert [r for r in requests if r.endswith("train_FD001.txt")] == downloads
