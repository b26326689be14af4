"""What every part of the SQL store shares: transactions, error mapping, tag tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Engine, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from runhistory.errors import NotFoundError, RunhistoryError, StorageError
from runhistory.faults import database_fault, is_database_error
from runhistory.store.sql.engine import HeldConnection, run_transaction
from runhistory.store.sql.schema import experiments, runs

T = TypeVar("T")

# Ids per IN (…) list: far below SQLite's and PostgreSQL's limits on bound parameters.
CHUNK = 900


class SqlStoreBase:
    """Holds the engine and runs units of work with runhistory's error types."""

    _engine: Engine
    _held: HeldConnection

    def _write(self, work: Callable[[Connection], T]) -> T:
        return self._call(work, read_only=False)

    def _write_hot(
        self, work: Callable[[Connection], T], first: Callable[[Connection], None] | None = None
    ) -> T:
        """A write on the hot path (metric batches, run changes): on the held connection.
        ``first``: statements committed on their own just before, on the same connection
        (PostgreSQL; see :func:`~runhistory.store.sql.engine.run_transaction`)."""
        return self._call(work, read_only=False, held=True, first=first)

    def _read(self, work: Callable[[Connection], T]) -> T:
        return self._call(work, read_only=True)

    def _call(
        self,
        work: Callable[[Connection], T],
        read_only: bool,
        held: bool = False,
        first: Callable[[Connection], None] | None = None,
    ) -> T:
        try:
            if held:
                return self._held.run(work, first)
            return run_transaction(self._engine, work, read_only=read_only)
        except RunhistoryError:
            raise
        except OverflowError as exc:  # a Python int the driver cannot bind
            raise database_fault(exc, self._where()) from exc
        except Exception as exc:
            if not is_database_error(exc):
                raise
            raise database_fault(exc, self._where()) from exc

    def _where(self) -> str:
        """The database, for messages: its file, or its URL without the password."""
        url = self._engine.url
        if url.get_backend_name() == "sqlite":
            return str(url.database or ":memory:")
        return url.render_as_string(hide_password=True)


VERSION_RETRIES = 10


class VersionTaken(Exception):
    """Another writer registered the same version first; try again."""


def write_next_version(store: SqlStoreBase, work: Callable[[Connection], T], what: str) -> T:
    """Run ``work`` (which raises :class:`VersionTaken` on a lost race) until it wins.

    Raises:
        StorageError: it lost :data:`VERSION_RETRIES` times in a row.
    """
    from runhistory.retry import Backoff, on, retry

    backoff = Backoff(first=0.005, cap=0.1, jitter=1.0, attempts=VERSION_RETRIES)
    try:  # another writer took the version number: take the next one
        return retry(lambda: store._write(work), on(VersionTaken), backoff)
    except VersionTaken:
        raise StorageError(f"could not register a new version of {what}: too busy") from None


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def require_run(conn: Connection, run_id: str) -> None:
    """Raise NotFoundError unless the run exists."""
    if conn.execute(select(runs.c.id).where(runs.c.id == run_id)).first() is None:
        raise NotFoundError(f"no run with id {run_id!r}", run_id=run_id)


def require_experiment(conn: Connection, experiment_id: str) -> None:
    """Raise NotFoundError unless the experiment exists."""
    found = conn.execute(select(experiments.c.id).where(experiments.c.id == experiment_id))
    if found.first() is None:
        raise NotFoundError(f"no experiment with id {experiment_id!r}", experiment_id=experiment_id)


def _dialect_insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignore_stmt(conn: Connection, table: Table, keys: Sequence[str]) -> Any:
    """``INSERT … ON CONFLICT (keys) DO NOTHING`` for the connection's dialect."""
    return _dialect_insert(conn, table).on_conflict_do_nothing(index_elements=list(keys))


def insert_ignore(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> None:
    """Insert ``rows``, skipping those whose ``keys`` already exist."""
    if rows:
        conn.execute(insert_ignore_stmt(conn, table, keys), list(rows))


def upsert(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> None:
    """Insert ``rows``, overwriting the other columns of rows whose ``keys`` exist."""
    if not rows:
        return
    stmt = _dialect_insert(conn, table)
    others = [name for name in rows[0] if name not in keys]
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={name: stmt.excluded[name] for name in others}
    )
    conn.execute(stmt, list(rows))


def set_key_values(
    conn: Connection, table: Table, owner: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    """Upsert ``values`` into a key/value table (tags) for the owner columns ``owner``."""
    rows = [{**owner, "key": key, "value": value} for key, value in values.items()]
    upsert(conn, table, rows, [*owner, "key"])


def add_key_values(
    conn: Connection, table: Table, owner: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    """Insert ``values`` into a key/value table (properties), keeping existing keys."""
    rows = [{**owner, "key": key, "value": value} for key, value in values.items()]
    insert_ignore(conn, table, rows, [*owner, "key"])


def remove_keys(
    conn: Connection, table: Table, owner: Mapping[str, Any], keys: Iterable[str]
) -> None:
    """Delete ``keys`` of the owner from a key/value table."""
    keys = list(keys)
    if not keys:
        return
    stmt = delete(table).where(table.c.key.in_(keys))
    for name, value in owner.items():
        stmt = stmt.where(table.c[name] == value)
    conn.execute(stmt)


def load_key_values(
    conn: Connection, table: Table, owner_column: str, owner_ids: Sequence[Any]
) -> dict[Any, dict[str, Any]]:
    """``{owner id: {key: value}}`` of a key/value table, one query per chunk of owners."""
    found: dict[Any, dict[str, Any]] = {}
    column = table.c[owner_column]
    for chunk in chunks(list(dict.fromkeys(owner_ids))):
        query = select(column, table.c.key, table.c.value).where(column.in_(chunk))
        for owner, key, value in conn.execute(query):
            found.setdefault(owner, {})[key] = value
    return found
