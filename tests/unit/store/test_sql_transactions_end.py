"""A unit of work that fails part-way never leaves a transaction (or a read snapshot) open.

The failure is provoked for real: the unit of work raises while it is still reading rows, and
the exception is kept alive afterwards (as a queue keeping a refusal for ``flush()``, a REPL's
``sys.last_value`` or a log handler would). On SQLite a statement that was stepped but never
reset keeps its connection's read snapshot after COMMIT or ROLLBACK: writes on that connection
then fail with "database is locked" and reads see old data (a run created since looks missing).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection

from runhistory.errors import NotFoundError
from runhistory.store.sql import SqlTrackingStore
from runhistory.store.sql._direct import cursor
from runhistory.store.sql.schema import experiments
from runhistory.tracking.entities import ExperimentInfo
from support import writes


class Undecodable(Exception):
    """What a read raises on a row it cannot turn into a record."""


def _fail_on_rows_core(conn: Connection) -> list[Any]:
    def decode(row: Any) -> Any:
        raise Undecodable(row)

    return [decode(row) for row in conn.execute(select(experiments))]


def _fail_on_rows_driver(conn: Connection) -> list[Any]:
    def decode(row: Any) -> Any:
        raise Undecodable(row)

    found = cursor(conn)  # the database driver's own cursor, as the hot write path uses
    return [decode(row) for row in found.execute("SELECT id, name FROM experiments")]


UNITS = {"core": _fail_on_rows_core, "driver": _fail_on_rows_driver}
PATHS = ["_read", "_write", "_write_hot"]


def _seed(store: SqlTrackingStore) -> None:
    for index in range(5):
        store.create_experiment(f"seed-{index}")


def _fail(store: SqlTrackingStore, path: str, unit: Callable[[Connection], Any]) -> Exception:
    with pytest.raises(Undecodable) as caught:
        getattr(store, path)(unit)
    return caught.value  # kept alive by the caller, with its traceback and frames


@pytest.mark.parametrize("unit", sorted(UNITS))
@pytest.mark.parametrize("path", PATHS)
def test_a_failed_unit_of_work_leaves_the_store_usable(
    store: SqlTrackingStore, path: str, unit: str
) -> None:
    _seed(store)
    kept = [_fail(store, path, UNITS[unit]) for _ in range(3)]  # more than one connection
    started = time.monotonic()
    created = store.create_experiment("after-the-failure")
    writes.create_run(store, "after_1", experiment_id=created.experiment_id, status="Running",
                      created_time=time.time())  # fmt: skip
    assert store.get_run("after_1").experiment_id == created.experiment_id
    found = store._write_hot(_lookup("after-the-failure"))  # the hot writer's connection too
    assert found == created.experiment_id
    assert time.monotonic() - started < 5, "a write waited for a lock held by the failed read"
    assert len(kept) == 3


def _lookup(name: str) -> Callable[[Connection], str | None]:
    def work(conn: Connection) -> str | None:
        return conn.execute(select(experiments.c.id).where(experiments.c.name == name)).scalar()

    return work


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_sqlite_connections_hold_no_snapshot_after_a_failure(tmp_path: Any, unit: str) -> None:
    path = tmp_path / "store.db"
    store = SqlTrackingStore(f"sqlite:///{path}")
    try:
        _seed(store)
        kept = [_fail(store, p, UNITS[unit]) for p in PATHS]
        other = sqlite3.connect(path, timeout=0.5, isolation_level=None)
        other.execute(
            "INSERT INTO experiments (id, name, created_time) VALUES ('from-other', 'other', 1)"
        )  # a write from another connection succeeds at once
        other.close()
        for driver in _driver_connections(store):
            assert not driver.in_transaction
            # No stale snapshot: this connection sees the other one's row and can write.
            seen = driver.execute("SELECT count(*) FROM experiments WHERE id = 'from-other'")
            assert seen.fetchone() == (1,)
            driver.execute("BEGIN IMMEDIATE")
            driver.execute("ROLLBACK")
        assert store.get_experiment("from-other").name == "other"
        assert len(kept) == len(PATHS)
    finally:
        store.close()


def _driver_connections(store: SqlTrackingStore) -> list[Any]:
    pool = store._engine.pool
    pooled = [record.dbapi_connection for record in list(pool._pool.queue)]  # type: ignore[attr-defined]
    held = store._held._conn
    drivers = [d for d in pooled if d is not None]
    if held is not None:
        drivers.append(held.connection.dbapi_connection)
    assert drivers, "the store opened no connection"
    return drivers


def test_postgresql_keeps_no_session_idle_in_transaction(postgres_database: str) -> None:
    from support.services import fresh_schema

    store = SqlTrackingStore(fresh_schema(postgres_database))
    try:
        _seed(store)
        kept = [_fail(store, p, UNITS[u]) for p in PATHS for u in UNITS]
        database = postgres_database.rsplit("/", 1)[1]
        with psycopg.connect(postgres_database, autocommit=True) as admin:
            states = admin.execute(
                "SELECT state FROM pg_stat_activity WHERE datname = %s AND pid <> "
                "pg_backend_pid()", (database,)
            ).fetchall()  # fmt: skip
        assert states, "the store holds no connection to look at"
        assert ("idle in transaction",) not in states
        assert ("idle in transaction (aborted)",) not in states
        store.create_experiment("after-the-failure")
        assert store.get_experiment_by_name("after-the-failure").name == "after-the-failure"
        assert len(kept) == len(PATHS) * len(UNITS)
    finally:
        store.close()


def test_a_missing_experiment_after_a_failure_is_a_true_not_found(store: SqlTrackingStore) -> None:
    _seed(store)
    kept = _fail(store, "_read", _fail_on_rows_core)
    with pytest.raises(NotFoundError):
        store.get_experiment("no-such-experiment")
    assert isinstance(store.create_experiment("fresh-one"), ExperimentInfo)
    assert kept is not None


def test_a_long_transaction_does_not_keep_every_cursor(tmp_path: Any) -> None:
    from runhistory.store.sql.engine import TrackedConnection

    conn = sqlite3.connect(tmp_path / "x.db", factory=TrackedConnection)
    held = conn.execute("SELECT 1 UNION ALL SELECT 2")  # still read: kept
    for _ in range(10_000):
        conn.execute("SELECT 1").fetchall()
    assert len(conn._cursors) < 600
    assert held in conn._cursors
    conn.close_cursors()
    assert conn._cursors == []
    with pytest.raises(sqlite3.ProgrammingError):
        held.fetchone()  # closed: its statement (and snapshot) released
    conn.close()
