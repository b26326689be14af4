"""One real Ray cluster and one real ``runhistory server`` (with ``--auth``) per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runhistory import Experiment, Workspace
from runhistory.client.backend import resolve_location
from runhistory.sdk.compute_target import ComputeTarget, ComputeTargetException, RayCompute
from runhistory.store.sql.tokens import SqlTokenStore
from support.ray_cluster import TARGET, RaySetup, ray_head
from support.services import start_server


@pytest.fixture(scope="session")
def ray_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RaySetup]:
    """Start the cluster and the server once; stop both at the end of the session."""
    root = tmp_path_factory.mktemp("ray-suite")
    store = root / "server-ws"
    location = resolve_location(str(store))
    assert location.database_url is not None
    store.mkdir(parents=True)
    tokens = SqlTokenStore.open(location.database_url)
    token, _ = tokens.create("ray-tests")
    tokens.close()
    server = start_server(str(store), root / "server.log", extra_args=["--auth"])
    try:
        with ray_head() as address:
            yield RaySetup(address, server, token)
    finally:
        server.stop()


@pytest.fixture
def ray_ws(ray_setup: RaySetup) -> Workspace:
    """A workspace on the session's server, with the cluster attached as ``raycluster``."""
    ws = Workspace(tracking_uri=ray_setup.server.url, token=ray_setup.token)
    try:
        ComputeTarget(ws, TARGET)
    except ComputeTargetException:
        ComputeTarget.attach(ws, TARGET, RayCompute.attach_configuration(ray_setup.address))
    return ws


@pytest.fixture
def ray_exp(ray_ws: Workspace, request: pytest.FixtureRequest) -> Experiment:
    """An experiment named after the test."""
    return Experiment(ray_ws, request.node.name.removeprefix("test_").replace("_", "-")[:36])


@pytest.fixture
def server_root(ray_setup: RaySetup) -> Path:
    """Where the server's log lives."""
    return ray_setup.server.log_path.parent
