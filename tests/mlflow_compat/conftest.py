"""Fixtures of the MLflow compatibility tests of the registry and of logged models: MLflow
pointed at a real ``runhistory server`` on SQLite, one on PostgreSQL, or an embedded workspace."""

from __future__ import annotations

from collections.abc import Iterator

import mlflow
import pytest
from mlflow_targets import Target

from runhistory import Workspace
from support.services import postgres_database, start_server


@pytest.fixture(scope="module", params=["server-sqlite", "server-postgresql", "embedded"])
def where(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real ``runhistory server`` on SQLite or on a fresh PostgreSQL database, or the folder
    of an embedded workspace."""
    folder = tmp_path_factory.mktemp(f"registry-{request.param}")
    env = {"RUNHISTORY_HOME": str(folder / "home")}
    if request.param == "embedded":
        yield str(folder / "ws")
    elif request.param == "server-sqlite":
        process = start_server(f"sqlite:///{folder / 'runhistory.db'}", folder / "server.log",
                               artifact_location=str(folder / "artifacts"), env=env)  # fmt: skip
        yield process.url
        process.stop()
    else:
        with postgres_database("rh_mlflow_registry") as database:
            artifacts = str(folder / "artifacts")
            process = start_server(database, folder / "server.log",
                                   artifact_location=artifacts, env=env)  # fmt: skip
            try:
                yield process.url
            finally:
                process.stop()


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
