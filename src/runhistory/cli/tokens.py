"""``runhistory token``: the bearer tokens of a server started with ``--auth``, and sign-in
links for its studio."""

from __future__ import annotations

from typing import Any

import click

from runhistory.cli.options import common_options, output_options
from runhistory.cli.workspace import STORE_OPTION, store_location


@click.group()
def token() -> None:
    """Create, list and revoke the bearer tokens of a server started with --auth."""


_PUBLIC_URL_OPTION = click.option(
    "--public-url", metavar="URL", envvar="RUNHISTORY_PUBLIC_URL",
    help="The server's address as users open it (for sign-in links).",
)  # fmt: skip


def _tokens(backend_store_uri: str | None) -> Any:
    from runhistory.client.backend import resolve_location
    from runhistory.store.sql.tokens import SqlTokenStore

    uri, _ = store_location(backend_store_uri, None)
    location = resolve_location(uri, "unused")
    assert location.database_url is not None
    return SqlTokenStore.open(location.database_url)


@token.command("create")
@click.option("--name", required=True, help="Who or what the token is for (a person, a job).")
@click.option(
    "--scope",
    type=click.Choice(["write", "read"]),
    default="write",
    show_default=True,
    help="read: browse and download only.",
)
@click.option("--expires", metavar="DURATION", help="Lifetime, e.g. 30d, 12h, 90m (default: none).")
@click.option(
    "--print-url", is_flag=True, help="Also print a one-click sign-in link for the studio."
)
@_PUBLIC_URL_OPTION
@STORE_OPTION
@common_options
def token_create(name: str, scope: str, expires: str | None, print_url: bool,
                 public_url: str | None, backend_store_uri: str | None) -> None:  # fmt: skip
    """Create a token and print it (it is shown only this once).

    Example: runhistory token create --name alice --expires 30d --print-url
    """
    from runhistory.cli.durations import parse_duration

    lifetime = parse_duration(expires) if expires else None
    store = _tokens(backend_store_uri)
    try:
        secret, info = store.create(name, scope=scope, expires_in=lifetime)
        link = _sign_in_link(store, info.token_id, public_url) if print_url else None
    finally:
        store.close()
    click.echo(f"created token {info.name!r} (id {info.token_id}, scope {info.scope}); it is "
               "shown only once:", err=True)  # fmt: skip
    click.echo(secret)
    if link:
        _echo_link(link)


@token.command("link")
@click.argument("name_or_id")
@_PUBLIC_URL_OPTION
@STORE_OPTION
@common_options
def token_link(name_or_id: str, public_url: str | None, backend_store_uri: str | None) -> None:
    """Print a new one-click studio sign-in link for an active token."""
    from runhistory.errors import NotFoundError

    store = _tokens(backend_store_uri)
    try:
        found = [t for t in store.list() if t.active and name_or_id in (t.name, t.token_id)]
        if not found:
            raise NotFoundError(f"no active token named {name_or_id!r} (or with that id)")
        link = _sign_in_link(store, found[-1].token_id, public_url)
    finally:
        store.close()
    _echo_link(link)


def _sign_in_link(store: Any, token_id: str, public_url: str | None) -> str:
    from runhistory.store.sql.sessions import LOGIN_CODE_SECONDS

    code = store.sessions().new_login_code(token_id, LOGIN_CODE_SECONDS)
    base = (public_url or "http://127.0.0.1:5000").rstrip("/")
    return f"{base}/#/sign-in?code={code}"


def _echo_link(link: str) -> None:
    from runhistory.store.sql.sessions import LOGIN_CODE_SECONDS

    click.echo(f"studio sign-in link (works once, for {int(LOGIN_CODE_SECONDS // 60)} "
               "minutes):", err=True)  # fmt: skip
    click.echo(link)


@token.command("list")
@STORE_OPTION
@output_options
@common_options
def token_list(backend_store_uri: str | None, output: str, query: Any) -> None:
    """List tokens (names, ids, scopes, dates and last use; never the tokens themselves)."""
    from runhistory.cli.output import emit
    from runhistory.sdk.timefmt import iso_utc

    store = _tokens(backend_store_uri)
    try:
        found = store.list()
    finally:
        store.close()

    def when(moment: float | None) -> str | None:
        return iso_utc(moment) if moment else None

    rows = [
        {"name": t.name, "id": t.token_id, "scope": t.scope, "created": when(t.created_time),
         "expires": when(t.expires_time), "last_used": when(t.last_used_time),
         "revoked": when(t.revoked_time), "active": t.active}
        for t in found
    ]  # fmt: skip
    emit(rows, output, query)


@token.command("revoke")
@click.argument("name_or_id")
@STORE_OPTION
@common_options
def token_revoke(name_or_id: str, backend_store_uri: str | None) -> None:
    """Revoke the active tokens with this name (or id): they stop working at once."""
    store = _tokens(backend_store_uri)
    try:
        revoked = store.revoke(name_or_id)
    finally:
        store.close()
    for info in revoked:
        click.echo(f"revoked token {info.name!r} (id {info.token_id})")
