"""A real local Ray instance (2 CPUs) for the tests that run trainings and predictions on it.

Started once per test session in the test process (the servers under test join it, as a
server started with no --ray-address joins a running local instance) and shut down at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The site the test cluster's one node is at (its ``site`` label), for trainings that ask it.
SITE = "testsite"


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """The GCS address of the running instance, for ``--ray-address``."""
    # Loopback only: Ray otherwise speaks over the machine's public address.
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    try:
        import ray
    except ImportError:  # make test installs it: in CI its absence is a broken install step
        if os.environ.get("CI"):
            raise
        pytest.skip("Ray is not installed (pip install 'deepaas[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="deepaas",
             labels={"site": SITE},  # as ray start --labels site=NAME gives a node its site
             # the fake modules under tests/ must import in Ray's worker processes too
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
