"""Engine set-up: SQLite pragmas and BEGIN IMMEDIATE, PostgreSQL driver, lock retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from runhistory import retry as retry_module
from runhistory.store.sql.engine import HeldConnection, create_store_engine, run_transaction


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
    finally:
        engine.dispose()
    assert pragma == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 60000,
                      "foreign_keys": 1}  # fmt: skip


def _traced(engine: Engine) -> list[str]:
    """Every statement SQLite itself receives on the engine's connections."""
    statements: list[str] = []

    def trace(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.set_trace_callback(statements.append)

    event.listen(engine, "connect", trace)
    return statements


def test_sqlite_writes_take_the_lock_at_begin(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'x.db'}")
    statements = _traced(engine)
    try:
        run_transaction(engine, lambda conn: conn.exec_driver_sql("SELECT 1"))
        run_transaction(engine, lambda conn: conn.exec_driver_sql("SELECT 2"), read_only=True)
    finally:
        engine.dispose()
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE", "BEGIN"]


def test_held_connection_writes_in_one_immediate_transaction(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'x.db'}")
    statements = _traced(engine)
    held = HeldConnection(engine)
    try:
        run_transaction(engine, lambda conn: conn.exec_driver_sql("CREATE TABLE t (a)"))
        held.run(lambda conn: conn.exec_driver_sql("INSERT INTO t VALUES (1)"))
        with pytest.raises(ZeroDivisionError):
            held.run(lambda conn: (conn.exec_driver_sql("INSERT INTO t VALUES (2)"), 1 / 0))
        held.run(lambda conn: conn.connection.dbapi_connection.execute("INSERT INTO t VALUES (3)"))
        rows = run_transaction(engine, lambda c: c.exec_driver_sql("SELECT a FROM t").all())
    finally:
        held.close()
        engine.dispose()
    assert [tuple(r) for r in rows] == [(1,), (3,)]  # the failed transaction left nothing
    # One BEGIN each: the create, the three held transactions (none nested), the read back.
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"] * 5


def test_postgresql_uses_psycopg_3() -> None:
    for uri in ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"):
        engine = create_store_engine(uri)
        assert engine.dialect.driver == "psycopg"
        engine.dispose()


def test_locked_transactions_are_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry_module.time, "sleep", lambda seconds: None)
    engine = create_store_engine(f"sqlite:///{tmp_path / 'x.db'}")
    calls = []

    def flaky(conn: Connection) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("BEGIN", {}, Exception("database is locked"))
        return "done"

    def broken(conn: Connection) -> None:
        raise OperationalError("SELECT", {}, Exception("disk I/O error"))

    try:
        assert run_transaction(engine, flaky) == "done"
        assert len(calls) == 3
        with pytest.raises(OperationalError, match="disk I/O"):
            run_transaction(engine, broken)
    finally:
        engine.dispose()
