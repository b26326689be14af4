"""Migrations are explicit on shared databases: an older PostgreSQL schema is refused with a
message naming ``runhistory db upgrade``; a SQLite workspace upgrades itself after a backup."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from runhistory.errors import SchemaVersionError
from runhistory.store.sql import open_store
from runhistory.store.sql.engine import create_store_engine, run_transaction
from runhistory.store.sql.migrate import HEAD_REVISION, current_revision, upgrade_with_alembic
from support import services

OLD = "0003"


def _at_old_revision(uri: str) -> None:
    engine = create_store_engine(uri)
    try:
        run_transaction(engine, lambda conn: upgrade_with_alembic(conn, OLD))
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO experiments (id, name, created_time) VALUES ('e1', 'kept', 1.0)"
            )
    finally:
        engine.dispose()


def _revision(uri: str) -> str | None:
    engine = create_store_engine(uri)
    try:
        return run_transaction(engine, current_revision, read_only=True)
    finally:
        engine.dispose()


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    command = [os.path.join(os.path.dirname(sys.executable), "runhistory"), *args]
    env = {**os.environ, "RUNHISTORY_HOME": str(home), "RUNHISTORY_QUIET": "1",
           "RUNHISTORY_ARTIFACT_LOCATION": str(home / "artifacts")}  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture(scope="module")
def pg_database() -> object:
    with services.postgres_database("rh_mig") as url:
        yield url


def test_an_older_postgresql_schema_is_refused_until_db_upgrade(
    pg_database: str, tmp_path: Path
) -> None:
    uri = services.fresh_schema(pg_database)
    _at_old_revision(uri)
    with pytest.raises(SchemaVersionError, match="runhistory db upgrade") as refused:
        open_store(uri)
    assert refused.value.fields["revision"] == OLD
    assert _revision(uri) == OLD  # untouched
    current = _cli("db", "current", "--backend-store-uri", uri, "-o", "json", home=tmp_path)
    assert current.returncode == 0, current.stderr
    assert f'"{OLD}"' in current.stdout and "runhistory db upgrade" in current.stdout
    client = _cli("run", "list", "--tracking-uri", uri, home=tmp_path)
    assert client.returncode != 0 and "runhistory db upgrade" in client.stderr
    assert "Traceback" not in client.stderr
    upgraded = _cli("db", "upgrade", "--backend-store-uri", uri, home=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"from {OLD} to revision {HEAD_REVISION}" in upgraded.stdout
    again = _cli("db", "upgrade", "--backend-store-uri", uri, home=tmp_path)
    assert "already at revision" in again.stdout
    store = open_store(uri)
    try:
        assert [e.name for e in store.list_experiments()] == ["kept"]
    finally:
        store.close()


def test_a_server_refuses_an_older_postgresql_schema(pg_database: str, tmp_path: Path) -> None:
    uri = services.fresh_schema(pg_database)
    _at_old_revision(uri)
    started = _cli("server", "--backend-store-uri", uri, "--artifact-location",
                   str(tmp_path / "a"), "--port", "0", home=tmp_path)  # fmt: skip
    assert started.returncode == 1
    assert "runhistory db upgrade" in started.stderr and "Traceback" not in started.stderr
    assert _revision(uri) == OLD


def test_a_sqlite_workspace_upgrades_itself_after_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "runhistory.db"
    uri = f"sqlite:///{path}"
    _at_old_revision(uri)
    store = open_store(uri)
    store.close()
    assert _revision(uri) == HEAD_REVISION
    backup = Path(f"{path}.backup-{OLD}")
    assert backup.is_file()
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (OLD,)
        assert conn.execute("SELECT name FROM experiments").fetchall() == [("kept",)]
    conn.close()


def test_an_empty_database_is_created_without_asking(pg_database: str) -> None:
    uri = services.fresh_schema(pg_database)
    open_store(uri).close()
    assert _revision(uri) == HEAD_REVISION
