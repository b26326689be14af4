"""Bringing a database's schema to the version this runhistory expects.

Opening a store calls :func:`ensure_schema`. The common case (schema already at head) costs one
cheap query and never imports Alembic. An empty database gets the current schema straight
from :mod:`~runhistory.store.sql.schema` and is stamped at the head revision (Alembic's import
alone takes about a second; a test checks that the migrations build the very same schema).

A database at an older revision is shared business on PostgreSQL: opening it is refused with a
message naming ``runhistory db upgrade``, which calls :func:`upgrade_schema` (so an upgrade is
a deliberate step, taken once, after a backup). A SQLite file belongs to one workspace and is
upgraded on open, after a copy of the file is kept next to it (``<file>.backup-<revision>``).
Creating and upgrading run under a lock, so several processes opening a new database at once
migrate it exactly once: on SQLite inside a ``BEGIN IMMEDIATE`` transaction (SQLite DDL is
transactional), on PostgreSQL under a transaction-level advisory lock.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from runhistory.errors import SchemaVersionError
from runhistory.store.sql.engine import run_transaction

# Keep in step with migrations/versions: the newest revision id, and every id ever released.
HEAD_REVISION = "0008"
KNOWN_REVISIONS = frozenset({"0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008"})
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Arbitrary 64-bit key of the PostgreSQL advisory lock serialising migrations.
_PG_LOCK_KEY = 0x72756E686973746F  # "runhisto"


UPGRADE_COMMAND = "runhistory db upgrade"


def ensure_schema(engine: Engine) -> None:
    """Make sure ``engine``'s database is at :data:`HEAD_REVISION`: create the schema of an
    empty database; upgrade an older SQLite file (after a backup copy).

    Raises:
        SchemaVersionError: the database is older and shared (PostgreSQL: run
            ``runhistory db upgrade``), or was migrated by a newer runhistory.
    """
    current = run_transaction(engine, current_revision, read_only=True)
    if current == HEAD_REVISION:
        return
    _check_known(current)
    if current is not None:
        if engine.dialect.name != "sqlite":
            raise SchemaVersionError(
                f"the database schema is at revision {current!r} and this runhistory needs "
                f"{HEAD_REVISION!r}: back the database up, then run '{UPGRADE_COMMAND} "
                "--backend-store-uri <this database>' once (servers and clients refuse an older "
                "shared database rather than migrate it unasked)",
                revision=current,
                head=HEAD_REVISION,
            )
        backup_sqlite(engine, current)
    run_transaction(engine, _upgrade)


def upgrade_schema(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to :data:`HEAD_REVISION` (``runhistory db upgrade``);
    returns the revisions before and after.

    Raises:
        SchemaVersionError: the database was migrated by a newer runhistory.
    """
    before = run_transaction(engine, current_revision, read_only=True)
    _check_known(before)
    if before != HEAD_REVISION:
        run_transaction(engine, _upgrade)
    return before, HEAD_REVISION


def backup_sqlite(engine: Engine, revision: str) -> str | None:
    """Copy a SQLite database file to ``<file>.backup-<revision>`` (once); returns the copy."""
    database = engine.url.database
    if not database or database == ":memory:" or not os.path.exists(database):
        return None
    target = f"{database}.backup-{revision}"
    if not os.path.exists(target):
        partial = target + ".partial"
        with sqlite3.connect(database) as source, sqlite3.connect(partial) as copy:
            source.backup(copy)  # consistent even while others write (WAL)
        source.close()
        copy.close()
        os.replace(partial, target)
    return target


def current_revision(conn: Connection) -> str | None:
    """The Alembic revision the database is at, ``None`` for an empty database."""
    if conn.dialect.name == "sqlite":
        found = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).first()
    else:
        # A plain query of the catalog (not to_regclass, whose cached lookup can miss a table
        # that another process created while this one waited for the migration lock).
        found = conn.exec_driver_sql(
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_name = 'alembic_version' AND table_schema = current_schema()"
        ).first()
    if not found:
        return None
    revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return None if revision is None else str(revision)


def _check_known(revision: str | None) -> None:
    if revision is not None and revision not in KNOWN_REVISIONS:
        raise SchemaVersionError(
            f"the database schema is at revision {revision!r}, which this version of "
            f"runhistory does not know (newest known: {HEAD_REVISION!r}); it was written by a "
            "newer runhistory: upgrade runhistory (pip install -U runhistory)",
            revision=revision,
            head=HEAD_REVISION,
        )


def _upgrade(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
    # Another process may have migrated while we waited for the lock.
    current = current_revision(conn)
    if current == HEAD_REVISION:
        return
    _check_known(current)
    if current is None:
        _create_at_head(conn)
    else:
        upgrade_with_alembic(conn)


def _create_at_head(conn: Connection) -> None:
    """Create the newest schema in an empty database and record its revision."""
    from runhistory.store.sql.schema import metadata

    metadata.create_all(conn, checkfirst=False)  # a foreign table of the same name fails loudly
    conn.exec_driver_sql(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
        "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
    )
    conn.exec_driver_sql(f"INSERT INTO alembic_version (version_num) VALUES ('{HEAD_REVISION}')")


def upgrade_with_alembic(conn: Connection, revision: str = "head") -> None:
    """Run the Alembic migrations on ``conn`` up to ``revision`` (inside its transaction)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    command.upgrade(config, revision)
