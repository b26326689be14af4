"""The backend-parametrised fixture of the behaviour suite.

Every test in ``tests/contract`` receives a fresh, empty ``workspace`` for each backend:
the embedded default (SQLite + local folder), PostgreSQL (its own schema in a database
created for this test session, files in a local folder), and a real ``runhistory server``
subprocess reached over HTTP (``--auth``, PostgreSQL + a moto S3 server behind it). Modules
that must hold on every storage a user can run (the data-integrity tests) add a fourth,
``server-sqlite``: a server on a SQLite file and a local folder. Each server
is started once per session; before each test its database tables are emptied and its bucket
prefix cleared, so every test sees an empty workspace. A backend that is unreachable fails the
suite; nothing is skipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from runhistory import Experiment, Workspace
from runhistory.store.sql.schema import api_tokens, environments, metadata
from runhistory.store.sql.tokens import SqlTokenStore
from support.services import (
    BUCKET,
    fresh_schema,
    moto_server,
    postgres_database,
    s3_client,
    s3_environment,
    start_server,
)

BACKENDS = ["sqlite", "postgresql", "server"]


@dataclass
class ContractServer:
    """The session's server, its token, and what backs it."""

    url: str
    token: str
    database: str
    s3_endpoint: str

    def empty(self) -> None:
        """Delete every row but the tokens and the environments (content-addressed, shared and
        remembered by the server's store), and every object of the server's bucket prefix."""
        tables = [t.name for t in metadata.sorted_tables if t not in (api_tokens, environments)]
        with psycopg.connect(self.database, autocommit=True) as conn:
            conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        client = s3_client(self.s3_endpoint)
        listed = client.list_objects_v2(Bucket=BUCKET, Prefix="contract/")
        while listed.get("KeyCount"):
            keys = [{"Key": item["Key"]} for item in listed["Contents"]]
            client.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})
            listed = client.list_objects_v2(Bucket=BUCKET, Prefix="contract/")


@dataclass
class SqliteServer:
    """The session's server on a SQLite file (no auth, files in a local folder)."""

    url: str
    database: Path

    def empty(self) -> None:
        """Delete every row but the environments (the server keeps running; WAL lets both
        connections in)."""
        with sqlite3.connect(self.database, timeout=30) as conn:
            for table in reversed(metadata.sorted_tables):
                if table is not environments:
                    conn.execute(f"DELETE FROM {table.name}")


@pytest.fixture(scope="session")
def contract_sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteServer]:
    """One ``runhistory server`` on a SQLite file for the session."""
    folder = tmp_path_factory.mktemp("sqlite-server")
    database = folder / "runhistory.db"
    server = start_server(
        f"sqlite:///{database}", folder / "server.log", artifact_location=str(folder / "files"),
        env={"RUNHISTORY_HOME": str(folder / "home")},
    )  # fmt: skip
    try:
        yield SqliteServer(server.url, database)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def contract_postgres() -> Iterator[str]:
    """A PostgreSQL database created for this session, dropped at the end."""
    with postgres_database("rh_contract") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    """The name of the backend under test."""
    return str(request.param)


@pytest.fixture(scope="session")
def contract_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContractServer]:
    """One ``runhistory server --auth`` on PostgreSQL + S3 for the session."""
    with moto_server() as endpoint, postgres_database("rh_server") as database:
        folder = tmp_path_factory.mktemp("server")
        log = folder / "server.log"
        tokens = SqlTokenStore.open(database)
        token = tokens.create("contract-suite")[0]
        tokens.close()
        server = start_server(
            database, log, artifact_location=f"s3://{BUCKET}/contract", extra_args=["--auth"],
            env={**s3_environment(endpoint), "RUNHISTORY_HOME": str(folder / "home")},
        )  # fmt: skip
        try:
            yield ContractServer(server.url, token, database, endpoint)
        finally:
            server.stop()


@pytest.fixture
def workspace(
    backend_name: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Workspace:
    """A fresh, empty workspace on the backend under test."""
    if backend_name == "sqlite":
        return Workspace(path=tmp_path / "workspace")
    if backend_name == "server-sqlite":
        local: SqliteServer = request.getfixturevalue("contract_sqlite_server")
        local.empty()
        return Workspace(tracking_uri=local.url)
    if backend_name == "server":
        server: ContractServer = request.getfixturevalue("contract_server")
        server.empty()
        monkeypatch.setenv("RUNHISTORY_TRACKING_TOKEN", server.token)
        return Workspace(tracking_uri=server.url)
    database = request.getfixturevalue("contract_postgres")
    return Workspace(
        tracking_uri=fresh_schema(database), artifact_location=str(tmp_path / "artifacts")
    )


@pytest.fixture
def experiment(workspace: Workspace) -> Experiment:
    """An experiment in the fresh workspace."""
    return Experiment(workspace, "contract-tests")
