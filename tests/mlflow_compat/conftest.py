"""Fixtures of the MLflow compatibility tests of the registry and of logged models: MLflow
pointed at a real ``runhistory server`` on SQLite, one on PostgreSQL, or an embedded workspace."""

from __future__ import annotations

from collections.abc import Iterator

import mlflow
import pytest
from mlflow_targets import Target

from runhistory import Workspace
from support.services import server_on


@pytest.fixture(scope="module", params=["server-sqlite", "server-postgresql", "embedded"])
def where(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real ``runhistory server`` on SQLite or on a fresh PostgreSQL database, or the folder
    of an embedded workspace."""
    folder = tmp_path_factory.mktemp(f"registry-{request.param}")
    if request.param == "embedded":
        yield str(folder / "ws")
        return
    store = request.param.removeprefix("server-")
    with server_on(store, folder, "rh_mlflow_registry") as process:
        yield process.url


@pytest.fixture
def target(where: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    """MLflow pointed at the runhistory server or at the embedded workspace."""
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    if where.startswith("http"):
        found = Target(where, Workspace(tracking_uri=where))
    else:
        workspace = Workspace(path=where)
        found = Target(workspace.get_mlflow_tracking_uri(), workspace)
    mlflow.set_tracking_uri(found.uri)
    mlflow.set_registry_uri(found.uri)
    yield found
    while mlflow.active_run() is not None:
        mlflow.end_run()
