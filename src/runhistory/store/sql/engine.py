"""Building the SQLAlchemy engine for a store URI, and running transactions on it.

SQLite is tuned for many processes writing one file: WAL journal, ``synchronous=NORMAL``, a
60 s busy timeout, and ``BEGIN IMMEDIATE`` for writing transactions. Taking the write lock at
``BEGIN`` (instead of upgrading a read lock later, which SQLite cannot wait for) is what makes
the busy timeout effective, so writers queue up instead of failing with "database is locked".
Read-only transactions use a plain deferred ``BEGIN`` so that, in WAL mode, they never wait
for writers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from runhistory.errors import StorageError

T = TypeVar("T")

BUSY_TIMEOUT_MS = 60_000
LOCKED_RETRIES = 5
# Execution option marking a transaction that only reads (SQLite: deferred BEGIN).
READ_ONLY_OPTION = "runhistory_read_only"


def create_store_engine(uri: str) -> Engine:
    """An engine for ``sqlite:///…`` or ``postgresql[+psycopg]://…``.

    Raises:
        StorageError: the URI names another kind of database.
    """
    url = make_url(uri)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if url.get_backend_name() == "postgresql":
        return _postgresql_engine(url)
    raise StorageError(
        f"unsupported tracking store URI {url.render_as_string()!r}: "
        "use sqlite:///… or postgresql://…"
    )


def _sqlite_engine(url: URL) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000}}
    if in_memory:
        # One connection, or every checkout would see its own empty database.
        kwargs.update(poolclass=StaticPool)
        kwargs["connect_args"]["check_same_thread"] = False
    else:
        kwargs.update(pool_size=5, max_overflow=10, pool_timeout=60)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own BEGIN is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _postgresql_engine(url: URL) -> Engine:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(
        url,
        pool_size=5,
        max_overflow=10,
        pool_timeout=60,
        pool_recycle=1800,
        pool_pre_ping=True,
    )


# PostgreSQL: serialization_failure, deadlock_detected.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def is_retryable_error(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "database is locked" or a PostgreSQL deadlock: a failure
    that running the same transaction again can cure."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database is busy" in text


def run_transaction(engine: Engine, work: Callable[[Connection], T], read_only: bool = False) -> T:
    """Run ``work(connection)`` in one transaction and commit it.

    A transaction that fails because SQLite stayed locked beyond the busy timeout (or that
    PostgreSQL aborted as a deadlock victim) is retried a few times; every other error
    propagates unchanged.
    """
    for attempt in range(LOCKED_RETRIES):
        try:
            with engine.connect() as conn:
                if read_only:
                    conn.execution_options(**{READ_ONLY_OPTION: True})
                with conn.begin():
                    return work(conn)
        except OperationalError as exc:
            if attempt == LOCKED_RETRIES - 1 or not is_retryable_error(exc):
                raise
            time.sleep(0.05 * (2**attempt) * (1 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover
