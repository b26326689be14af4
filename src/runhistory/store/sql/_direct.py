"""Statements of the write path: built from the declared tables, compiled once, run on the
driver's cursor.

Running a small statement through SQLAlchemy's execution machinery costs 20-40 µs of Python
(measured here: 25 µs for a prepared insert, 2 µs on the sqlite3 cursor itself); creating a
run and finishing it in one batch takes a handful of statements, so that overhead would be
most of the cost. So every statement of the write path is a SQLAlchemy Core construct over
the ``Table`` objects of ``schema.py`` (no column list is spelled by hand), compiled once per
dialect to SQL text in the driver's parameter style (cached: :func:`statement`), and run on
the DBAPI cursor of the SQLAlchemy connection that holds the transaction. Values are bound as
the drivers take them: JSON as text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

from runhistory.errors import ValidationError

Builder = Callable[..., Executable]


@dataclass(frozen=True)
class Compiled:
    """A statement's SQL text for one dialect.

    ``fixed`` holds the values of parameters the statement itself carries (constants of an
    ``IN`` list); ``names`` is the order of positional parameters (positional statements).
    """

    sql: str
    fixed: dict[str, Any]
    names: tuple[str, ...]


def _dialect(name: str, positional: bool) -> Dialect:
    if name == "postgresql":
        return PGDialect_psycopg(paramstyle="format" if positional else "pyformat")  # type: ignore[no-untyped-call]
    return sqlite.dialect(paramstyle="qmark" if positional else "named")  # type: ignore[no-any-return]


def compile_statement(stmt: Executable, dialect: str, positional: bool = False) -> Compiled:
    """``stmt`` as SQL text for ``dialect`` (``"sqlite"`` or ``"postgresql"``)."""
    compiled = stmt.compile(dialect=_dialect(dialect, positional))  # type: ignore[attr-defined]
    names = tuple(compiled.positiontup or ())
    fixed = {k: v for k, v in compiled.params.items() if v is not None}
    return Compiled(compiled.string, fixed, names)


def statement(build: Builder, positional: bool = False) -> Callable[..., Compiled]:
    """Cache the compiled form of ``build(dialect, *args)`` per dialect and arguments."""

    @cache
    def compiled(dialect: str, *args: Any) -> Compiled:
        return compile_statement(build(dialect, *args), dialect, positional)

    compiled.__doc__ = build.__doc__
    return compiled


def cursor(conn: Connection) -> Any:
    """A cursor of the driver connection under ``conn`` (inside its transaction)."""
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def execute(
    conn: Connection,
    sql: Callable[..., Compiled],
    params: Mapping[str, Any] | Sequence[Any],
    *args: Any,
) -> Any:
    """Run one statement (named or positional parameters); returns the cursor."""
    compiled = sql(conn.dialect.name, *args)
    if compiled.fixed and isinstance(params, Mapping):
        params = {**compiled.fixed, **params}
    found = cursor(conn)
    try:
        found.execute(compiled.sql, params)
    except Exception as exc:
        raise _as_sqlalchemy_error(conn, compiled.sql, exc) from exc
    return found


def execute_many(
    conn: Connection,
    sql: Callable[..., Compiled],
    rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
    *args: Any,
) -> int:
    """Run one statement for each parameter set (named or positional); returns the rows
    they changed, together."""
    if not rows:
        return 0
    compiled = sql(conn.dialect.name, *args)
    found = cursor(conn)
    try:
        found.executemany(compiled.sql, rows)
        return int(found.rowcount)
    except Exception as exc:
        raise _as_sqlalchemy_error(conn, compiled.sql, exc) from exc
    finally:
        found.close()


def json_rows(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """Rows as one JSON array of objects, for a statement that reads them with PostgreSQL's
    ``json_to_recordset`` (one execution for any number of rows, where ``executemany`` is one
    per row, each parameter dumped by the driver in Python); None when JSON cannot carry a
    value as the driver would bind it (a NaN or infinity, a NUL character, an integer beyond
    64 bits, a type JSON has not): the caller then runs one execution per row."""
    for row in rows:
        for value in row.values():
            if isinstance(value, float) and not math.isfinite(value):
                return None
            if isinstance(value, str) and "\x00" in value:
                return None
    try:
        return orjson.dumps(rows).decode()
    except orjson.JSONEncodeError:
        return None


def _as_sqlalchemy_error(conn: Connection, sql: str, exc: Exception) -> Exception:
    """A driver's error as SQLAlchemy raises it for its own statements (``IntegrityError``,
    ``OperationalError`` … with ``orig``), so that retries and error mapping treat both alike
    (parameters are left out of the message); a value the driver refused to bind is a
    ``ValidationError``."""
    base = conn.dialect.loaded_dbapi.Error
    if isinstance(exc, base):
        return DBAPIError.instance(sql, None, exc, base, hide_parameters=True, dialect=conn.dialect)
    if isinstance(exc, (TypeError, ValueError, OverflowError)):  # a value it cannot bind
        return ValidationError(f"the database driver cannot store a value: {exc}")
    return exc
