"""Bringing a database's schema to the version this runhistory expects.

Opening a store calls :func:`ensure_schema`. The common case (schema already at head) costs one
cheap query and never imports Alembic. Otherwise the upgrade runs under a lock, so several
processes opening a new database at once migrate it exactly once: on SQLite inside a
``BEGIN IMMEDIATE`` transaction (SQLite DDL is transactional), on PostgreSQL under a
transaction-level advisory lock.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from runhistory.errors import SchemaVersionError
from runhistory.store.sql.engine import run_transaction

# Keep in step with migrations/versions: the newest revision id, and every id ever released.
HEAD_REVISION = "0002"
KNOWN_REVISIONS = frozenset({"0001", "0002"})
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Arbitrary 64-bit key of the PostgreSQL advisory lock serialising migrations.
_PG_LOCK_KEY = 0x72756E686973746F  # "runhisto"


def ensure_schema(engine: Engine) -> None:
    """Create or upgrade the schema of ``engine``'s database to :data:`HEAD_REVISION`.

    Raises:
        SchemaVersionError: the database was migrated by a newer runhistory.
    """
    current = run_transaction(engine, current_revision, read_only=True)
    if current == HEAD_REVISION:
        return
    _check_known(current)
    run_transaction(engine, _upgrade)


def current_revision(conn: Connection) -> str | None:
    """The Alembic revision the database is at, ``None`` for an empty database."""
    if conn.dialect.name == "sqlite":
        found = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).first()
    else:
        found = conn.exec_driver_sql("SELECT to_regclass('alembic_version')").scalar()
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

    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")
