from __future__ import annotations

import pytest
import ray


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray of 2 CPUs for the module's tests (the ensembles use it instead of starting their own)."""
    ray.init(address="local", num_cpus=2, include_dashboard=False)  # not a cluster another test left recorded
    yield
    ray.shutdown()
