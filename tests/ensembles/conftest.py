from __future__ import annotations

import pytest
import ray


@pytest.fixture(scope="package")
def ray_cluster():
    """A Ray cluster of two nodes with a CPU each, started once for the package: ensemble
    members and sweep trials train on both nodes, and a later test reuses the earlier tests'
    worker processes (TensorFlow already imported) except where a worker died. The suite's
    scheduler gives the whole package to one xdist worker (tests/conftest.py, SHARED_SCOPES)."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    try:
        ray.init(address=cluster.address)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
