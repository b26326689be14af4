"""Engine set-up: SQLite pragmas and BEGIN IMMEDIATE, PostgreSQL driver, lock retries."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from runhistory.store.sql import engine as engine_module
from runhistory.store.sql.engine import create_store_engine, run_transaction


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


def test_sqlite_writes_take_the_lock_at_begin(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'x.db'}")
    statements: list[str] = []

    def record(conn: Connection, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        run_transaction(engine, lambda conn: conn.exec_driver_sql("SELECT 1"))
        run_transaction(engine, lambda conn: conn.exec_driver_sql("SELECT 2"), read_only=True)
    finally:
        engine.dispose()
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE", "BEGIN"]


def test_postgresql_uses_psycopg_3() -> None:
    for uri in ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"):
        engine = create_store_engine(uri)
        assert engine.dialect.driver == "psycopg"
        engine.dispose()


def test_locked_transactions_are_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module.time, "sleep", lambda seconds: None)
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
