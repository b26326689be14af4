"""Building the SQLAlchemy engine for a store URI, and running transactions on it.

SQLite is tuned for many processes writing one file: WAL journal, ``synchronous=NORMAL``, a
60 s busy timeout, and ``BEGIN IMMEDIATE`` for writing transactions. Taking the write lock at
``BEGIN`` (instead of upgrading a read lock later, which SQLite cannot wait for) is what makes
the busy timeout effective, so writers queue up instead of failing with "database is locked".
Read-only transactions use a plain deferred ``BEGIN`` so that, in WAL mode, they never wait
for writers.

Every transaction ends, whatever happens inside it. On SQLite that takes more than COMMIT or
ROLLBACK: a statement that was stepped but never reset (a unit of work that raised while it
was still reading rows, its cursor kept alive by the exception's traceback) keeps its
connection's read snapshot after the transaction ends. That connection would then see old
data and fail every write with "database is locked". So the store's SQLite connections track
their cursors (:class:`TrackedConnection`) and close them whenever a connection goes back to
the pool and after every transaction of the held connection.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DisconnectionError, OperationalError
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
# A pooled PostgreSQL connection idle this long is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0
_CHECKED_IN = "runhistory_checked_in"
# Cursors a connection remembers before it forgets those nothing else holds.
_PRUNE_AT = 256


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


class TrackedConnection(sqlite3.Connection):
    """A SQLite connection that knows the cursors opened since its last transaction ended,
    so they can be closed at once.

    Strong references in a list (a weak reference per cursor costs several times more); the
    list is pruned as it grows, so a long transaction does not keep every cursor it made.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cursors: list[sqlite3.Cursor] = []
        self._prune_at = _PRUNE_AT

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        """A new cursor, remembered until :meth:`close_cursors`."""
        found = super().cursor(*args, **kwargs)
        self._cursors.append(found)
        if len(self._cursors) > self._prune_at:
            self._prune()
        return found

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        """``cursor().execute(…)``: the shortcut's cursor is remembered too."""
        return self.cursor().execute(sql, parameters)

    def close_cursors(self) -> None:
        """Close every cursor opened since the last call: each unfinished statement is reset,
        which ends the read snapshot it held."""
        cursors, self._cursors = self._cursors, []
        self._prune_at = _PRUNE_AT
        for found in cursors:
            found.close()

    def _prune(self) -> None:
        # Keep the cursors something else still holds (more references than this list, the
        # loop variable and getrefcount's argument); dropping the others frees them, which
        # resets their statements now.
        self._cursors = [c for c in self._cursors if sys.getrefcount(c) > 3]
        self._prune_at = max(_PRUNE_AT, 2 * len(self._cursors))


def close_cursors(driver: Any) -> None:
    """Close the open cursors of a store connection (a no-op for other drivers)."""
    if isinstance(driver, TrackedConnection):
        driver.close_cursors()


def _sqlite_engine(url: URL) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000}}
    if in_memory:
        # One connection shared by every thread, or every checkout would see its own empty
        # database: its cursors are never closed behind another thread's back.
        kwargs.update(poolclass=StaticPool)
        kwargs["connect_args"]["check_same_thread"] = False
    else:
        kwargs.update(pool_size=5, max_overflow=10, pool_timeout=60)
        kwargs["connect_args"]["factory"] = TrackedConnection
    engine = create_engine(url, **kwargs, **_JSON_CODEC)
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    event.listen(engine, "checkin", _on_sqlite_checkin)
    return engine


def _on_sqlite_checkin(dbapi_connection: Any, _record: Any) -> None:
    # After the pool's rollback: nothing of the last unit of work may outlive it.
    if dbapi_connection is not None:
        close_cursors(dbapi_connection)


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


def _commit(conn: Connection, driver: Any) -> None:
    try:
        if conn.in_transaction():
            conn.commit()
        else:
            driver.commit()
    except sqlite3.OperationalError as exc:
        raise OperationalError("COMMIT", None, exc) from exc


def _postgresql_engine(url: URL) -> Engine:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(
        url,
        **_JSON_CODEC,
        pool_size=5,
        max_overflow=10,
        pool_timeout=60,
        pool_recycle=1800,
    )
    event.listen(engine, "checkin", _note_checkin)
    dialect = engine.dialect

    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        _ping_if_idle(dialect, dbapi_connection, record)

    event.listen(engine, "checkout", on_checkout)
    return engine


def _note_checkin(dbapi_connection: Any, record: Any) -> None:
    if dbapi_connection is not None:
        record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(dialect: Any, dbapi_connection: Any, record: Any) -> None:
    """Check a pooled connection that sat idle before handing it out (SQLAlchemy's pre-ping,
    but only after :data:`PING_AFTER_IDLE_SECONDS`): a busy server's transactions save a
    round trip each. A dead connection is replaced; one that died while in use moments ago
    fails its transaction, which invalidates the whole pool (the next ones reconnect)."""
    last = record.info.get(_CHECKED_IN)
    if last is None or time.monotonic() - last < PING_AFTER_IDLE_SECONDS:
        return  # just connected, or used a moment ago
    try:
        alive = bool(dialect.do_ping(dbapi_connection))
    except Exception as exc:
        raise DisconnectionError(f"a pooled connection is gone: {exc}") from exc
    if not alive:
        raise DisconnectionError("a pooled connection is gone")


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


def run_transaction(
    engine: Engine,
    work: Callable[[Connection], T],
    read_only: bool = False,
    first: Callable[[Connection], None] | None = None,
) -> T:
    """Run ``work(connection)`` in one transaction and commit it.

    ``first`` runs on the same connection before the transaction, each of its statements
    committed on its own (PostgreSQL's autocommit: one round trip a statement, no ``BEGIN``
    or ``COMMIT`` of their own); it runs again if the transaction is retried.

    A transaction that fails because SQLite stayed locked beyond the busy timeout (or that
    PostgreSQL aborted as a deadlock victim) is retried a few times; every other error
    propagates unchanged.
    """

    def once() -> T:
        with engine.connect() as conn:
            if read_only:
                conn.execution_options(**{READ_ONLY_OPTION: True})
            if first is not None:
                committed_alone(conn, first)
            with conn.begin():
                return work(conn)

    return _retrying(once)


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and is_retryable_error(exc)


def committed_alone(conn: Connection, work: Callable[[Connection], None]) -> None:
    """Run ``work``'s statements on the driver connection under ``conn`` (outside any
    transaction) in autocommit mode: each is committed as it runs."""
    driver = conn.connection.dbapi_connection
    assert driver is not None
    driver.autocommit = True
    try:
        work(conn)
    finally:
        driver.autocommit = False


_LOCKED_BACKOFF = Backoff(first=0.05, jitter=1.0, attempts=LOCKED_RETRIES)


def _retrying(once: Callable[[], T]) -> T:
    return retry(once, _locked, _LOCKED_BACKOFF)


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

    def run(
        self, work: Callable[[Connection], T], first: Callable[[Connection], None] | None = None
    ) -> T:
        """``work(connection)`` in one committed write transaction (retried like
        :func:`run_transaction`); ``first`` as there (PostgreSQL only: never held)."""
        if first is not None:
            assert not self._held, "statements committed alone are for PostgreSQL"
            return run_transaction(self._engine, work, first=first)
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
            _commit(conn, driver)
        except BaseException:
            self._abandon(conn, driver)
            raise
        finally:
            close_cursors(driver)
        return result

    def _abandon(self, conn: Connection, driver: Any) -> None:
        """Roll back a failed transaction; a connection that cannot is dropped."""
        try:
            conn.rollback()  # also clears a transaction SQLAlchemy deactivated after an error
            if driver.in_transaction:
                driver.rollback()
        except Exception:
            close_cursors(driver)
            conn.invalidate()
            self._conn = None

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
