"""Building the SQLAlchemy engine for a store URI, and running transactions on it.

SQLite is tuned for many processes writing one file: WAL journal, ``synchronous=NORMAL``, a
60 s busy timeout, and ``BEGIN IMMEDIATE`` for writing transactions. Taking the write lock at
``BEGIN`` (instead of upgrading a read lock later, which SQLite cannot wait for) is what makes
the busy timeout effective, so writers queue up instead of failing with "database is locked".
Read-only transactions use a plain deferred ``BEGIN`` so that, in WAL mode, they never wait
for writers.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from runhistory.errors import StorageError
from runhistory.forking import reset_in_child
from runhistory.retry import Backoff, retry
from runhistory.store.sql.checkpoint import BACKSTOP_PAGES, Checkpointer

T = TypeVar("T")

BUSY_TIMEOUT_MS = 60_000
LOCKED_RETRIES = 5
# Execution option marking a transaction that only reads (SQLite: deferred BEGIN).
READ_ONLY_OPTION = "runhistory_read_only"


def _dumps(document: Any) -> str:
    return orjson.dumps(document).decode()


# JSON columns (run tags and properties) through orjson: several times faster than json.
_JSON_CODEC: dict[str, Any] = {"json_serializer": _dumps, "json_deserializer": orjson.loads}


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
    engine = create_engine(url, **kwargs, **_JSON_CODEC)
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
        cursor.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    driver = conn.connection.dbapi_connection
    if getattr(driver, "in_transaction", False):
        return  # begun on the driver already (HeldConnection)
    read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
    _begin(driver, "BEGIN" if read_only else "BEGIN IMMEDIATE")


def _begin(driver: Any, statement: str) -> None:
    # On the driver's connection: through exec_driver_sql this costs as much as a small
    # insert. A failure is raised as SQLAlchemy's, like any other statement's.
    try:
        driver.execute(statement)
    except sqlite3.OperationalError as exc:
        raise OperationalError(statement, None, exc) from exc


def _postgresql_engine(url: URL) -> Engine:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(
        url,
        **_JSON_CODEC,
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

    def once() -> T:
        with engine.connect() as conn:
            if read_only:
                conn.execution_options(**{READ_ONLY_OPTION: True})
            with conn.begin():
                return work(conn)

    return _retrying(once)


def _retrying(once: Callable[[], T]) -> T:
    def locked(exc: BaseException) -> bool:
        return isinstance(exc, OperationalError) and is_retryable_error(exc)

    return retry(once, locked, Backoff(first=0.05, jitter=1.0, attempts=LOCKED_RETRIES))


class HeldConnection:
    """One SQLite connection kept open for a store's hot write path.

    Checking a connection out of the pool and back in for every transaction costs about as
    much as a small insert (measured: 56 µs per empty transaction against 26 µs on a held
    connection). Writes of metric batches and run changes use this connection; a second
    thread that finds it busy, and every PostgreSQL store, take a pooled connection instead.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        database = engine.url.database
        self._held = engine.dialect.name == "sqlite" and database not in (None, "", ":memory:")
        self._checkpointer = (
            Checkpointer(str(database), BUSY_TIMEOUT_MS) if self._held and database else None
        )
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        reset_in_child(self, HeldConnection._forget_after_fork)

    def run(self, work: Callable[[Connection], T]) -> T:
        """``work(connection)`` in one committed write transaction (retried like
        :func:`run_transaction`)."""
        if not self._held or not self._lock.acquire(blocking=False):
            return run_transaction(self._engine, work)
        try:
            result = _retrying(lambda: self._once(work))
            if self._checkpointer is not None and self._checkpointer.committed():
                assert self._conn is not None
                self._checkpointer.catch_up(self._conn.connection.dbapi_connection)
        finally:
            self._lock.release()
        return result

    def _once(self, work: Callable[[Connection], T]) -> T:
        # The transaction is begun and ended on the driver's connection (SQLAlchemy's own
        # begin and commit cost about 40 µs); a SQLAlchemy statement inside ``work`` finds
        # it begun (see _on_sqlite_begin) and SQLAlchemy's transaction ends with it.
        if self._conn is None or self._conn.closed:
            self._conn = self._engine.connect()
        conn = self._conn
        driver = conn.connection.dbapi_connection
        assert driver is not None
        _begin(driver, "BEGIN IMMEDIATE")
        try:
            result = work(conn)
        except BaseException:
            if conn.in_transaction():
                conn.rollback()
            if driver.in_transaction:
                driver.rollback()
            raise
        try:
            if conn.in_transaction():
                conn.commit()
            else:
                driver.commit()
        except sqlite3.OperationalError as exc:
            if driver.in_transaction:
                driver.rollback()
            raise OperationalError("COMMIT", None, exc) from exc
        return result

    def close(self) -> None:
        """Return the connection to the pool and stop the checkpointer."""
        if self._checkpointer is not None:
            self._checkpointer.close()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _forget_after_fork(self) -> None:
        # A SQLite connection must not cross fork(): the child opens its own.
        self._conn = None
        self._lock = threading.Lock()
