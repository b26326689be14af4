"""``runhistory db``: the schema of a workspace database — which revision, and upgrading it.

A shared PostgreSQL database is never migrated behind anyone's back: servers and clients that
meet an older schema refuse with a message naming ``runhistory db upgrade``.
"""

from __future__ import annotations

from typing import Any

import click

from runhistory.cli.options import common_options, output_options
from runhistory.cli.workspace import STORE_OPTION, store_location


@click.group()
def db() -> None:
    """Show and upgrade the schema of a workspace database."""


def _engine(backend_store_uri: str | None) -> Any:
    from runhistory.client.backend import resolve_location
    from runhistory.store.sql.engine import create_store_engine

    uri, _ = store_location(backend_store_uri, None)
    location = resolve_location(uri, "unused")
    assert location.database_url is not None
    return create_store_engine(location.database_url)


@db.command("current")
@STORE_OPTION
@output_options
@common_options
def db_current(backend_store_uri: str | None, output: str, query: Any) -> None:
    """Print the database's schema revision and the one this runhistory needs."""
    from runhistory.cli.output import emit
    from runhistory.store.sql.engine import run_transaction
    from runhistory.store.sql.migrate import HEAD_REVISION, KNOWN_REVISIONS, current_revision

    engine = _engine(backend_store_uri)
    try:
        current = run_transaction(engine, current_revision, read_only=True)
    finally:
        engine.dispose()
    if current == HEAD_REVISION:
        state = "up to date"
    elif current is None:
        state = "empty (created on first use)"
    elif current in KNOWN_REVISIONS:
        state = "older: run 'runhistory db upgrade'"
    else:
        state = "newer than this runhistory: upgrade runhistory"
    emit({"revision": current, "head": HEAD_REVISION, "state": state}, output, query)


@db.command("upgrade")
@STORE_OPTION
@common_options
def db_upgrade(backend_store_uri: str | None) -> None:
    """Create or upgrade the database's schema to this runhistory's (back it up first).

    Run it once per database when a new runhistory needs a newer schema, before starting the
    new servers. Safe to run again, and while other processes use the database.
    """
    from runhistory.store.sql.migrate import upgrade_schema

    engine = _engine(backend_store_uri)
    try:
        before, after = upgrade_schema(engine)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"the schema is already at revision {after}")
    else:
        click.echo(f"schema upgraded from {before or 'empty'} to revision {after}")
