"""``runhistory server``, ``ui``, ``sync`` and ``token``: running and feeding a tracking server.

These commands import the server stack (FastAPI, uvicorn) only when they run.
"""

from __future__ import annotations

import time
from typing import Any

import click

from runhistory.cli.options import common_options, output_options


def _store_location(
    backend_store_uri: str | None, artifact_location: str | None
) -> tuple[str, str | None]:
    """The database (and artifact location) to serve: the option, else the CLI's workspace."""
    if backend_store_uri:
        return backend_store_uri, artifact_location
    from runhistory.cli.workspace import open_workspace
    from runhistory.client.backend import close_all

    workspace = open_workspace()
    uri, artifacts = workspace.tracking_uri, artifact_location or workspace.artifact_location
    close_all()
    if uri.startswith(("http://", "https://")):
        raise click.ClickException(
            f"the workspace is itself a server ({uri}); pass --backend-store-uri "
            "postgresql://… or sqlite:///… (the database the server should use)"
        )
    return uri, artifacts


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--backend-store-uri",
    metavar="URI",
    help="postgresql://…, sqlite:///… or a folder (default: the CLI's workspace).",
)
@click.option(
    "--artifact-location",
    metavar="URI",
    help="Folder or s3://bucket/prefix for run files (needed with postgresql://).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port.",
)
@click.option("--auth", is_flag=True, help="Require a bearer token (see `runhistory token`).")
@click.option(
    "--secret-key-file",
    metavar="PATH",
    help="Key encrypting workspace secrets; give every server of one database the same.",
)
@click.option(
    "--public-url",
    metavar="URL",
    help="The URL users reach this server at (behind a proxy), for portal links "
    "[default: RUNHISTORY_PUBLIC_URL].",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@common_options
def server(host: str, port: int, backend_store_uri: str | None, artifact_location: str | None,
           workers: int, auth: bool, secret_key_file: str | None, public_url: str | None,
           log_level: str) -> None:  # fmt: skip
    """Run the runhistory tracking server (REST API under /api/v1, studio at /).

    The schema is migrated at start; a database written by a newer runhistory is refused.
    Example: runhistory server --backend-store-uri postgresql://ml@db/runs
    --artifact-location s3://ml-runs/artifacts --host 0.0.0.0 --workers 4 --auth
    """
    from runhistory import settings as environment
    from runhistory.server.config import ServerSettings
    from runhistory.server.runner import bind, serve

    uri, artifacts = _store_location(backend_store_uri, artifact_location)
    public_url = (public_url or environment.get("RUNHISTORY_PUBLIC_URL") or "").rstrip("/")
    settings = ServerSettings(backend_store_uri=uri, artifact_location=artifacts, auth=auth,
                              secret_key_file=secret_key_file,
                              public_url=public_url or None)  # fmt: skip
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"runhistory server on http://{shown}:{sock.getsockname()[1]} ({workers} "
               f"worker{'s' if workers > 1 else ''}, auth {'on' if auth else 'off'})",
               err=True)  # fmt: skip
    serve(settings, sock, workers=workers, log_level=log_level)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@common_options
def ui(host: str, port: int, no_browser: bool) -> None:
    """Open the studio on the CLI's workspace (starts a server on it)."""
    import threading
    import webbrowser

    from runhistory.sdk.portal import announce_ui, link_address
    from runhistory.server.config import ServerSettings
    from runhistory.server.runner import bind, serve

    uri, artifacts = _store_location(None, None)
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    address = link_address(host, sock.getsockname()[1])
    click.echo(f"runhistory studio at {address}/", err=True)
    if not no_browser:
        threading.Timer(1.0, webbrowser.open, args=(f"{address}/",)).start()
    settings = ServerSettings(backend_store_uri=uri, artifact_location=artifacts,
                              public_url=address)  # fmt: skip
    with announce_ui(uri, address):  # portal links of this workspace point here meanwhile
        serve(settings, sock, log_level="warning")


@click.command()
@click.option(
    "--retry-seconds",
    default=30.0,
    show_default=True,
    type=float,
    help="How long to keep retrying an unreachable server.",
)
def sync(retry_seconds: float) -> None:
    """Send metric values spooled by processes that ended before their server stored them."""
    from runhistory.client.spool import orphaned_spools

    totals = [0, 0, 0]  # folders, batches, values
    for spool in orphaned_spools():
        sent = _send_spool(spool, retry_seconds)
        totals = [totals[0] + 1, totals[1] + sent[0], totals[2] + sent[1]]
    if totals[0] == 0:
        click.echo("nothing to send: no spool left by a stopped process")
        return
    click.echo(f"sent {totals[2]} metric values in {totals[1]} batches from {totals[0]} "
               f"spool folder{'s' if totals[0] != 1 else ''}")  # fmt: skip


def _send_spool(spool: Any, retry_seconds: float) -> tuple[int, int]:
    from runhistory import settings
    from runhistory.client.http import HttpClient
    from runhistory.client.sender import BatchSender
    from runhistory.errors import StorageError

    uri = spool.tracking_uri()
    http = HttpClient(uri, token=settings.get("RUNHISTORY_TRACKING_TOKEN"))
    sender = BatchSender(http)
    batches = values = 0
    try:
        for batch in spool.pending():
            deadline = time.monotonic() + retry_seconds
            while True:
                try:
                    refusals = sender.send([batch])
                    break
                except StorageError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1.0)
            for refusal in refusals:
                if refusal is not None:
                    click.echo(f"runhistory: the server refused a batch: {refusal}", err=True)
            spool.remove(batch)
            batches, values = batches + 1, values + batch.points
    finally:
        http.close()
        spool.close()
    return batches, values


@click.group()
def token() -> None:
    """Create, list and revoke the bearer tokens of a server started with --auth."""


_STORE_OPTION = click.option(
    "--backend-store-uri", metavar="URI",
    help="The server's database (default: the CLI's workspace).",
)  # fmt: skip


def _tokens(backend_store_uri: str | None) -> Any:
    from runhistory.client.backend import resolve_location
    from runhistory.store.sql.tokens import SqlTokenStore

    uri, _ = _store_location(backend_store_uri, None)
    location = resolve_location(uri, "unused")
    assert location.database_url is not None
    return SqlTokenStore.open(location.database_url)


@token.command("create")
@click.option("--name", required=True, help="What the token is for (a person, a job).")
@_STORE_OPTION
@common_options
def token_create(name: str, backend_store_uri: str | None) -> None:
    """Create a token and print it (it is shown only this once)."""
    store = _tokens(backend_store_uri)
    try:
        secret, info = store.create(name)
    finally:
        store.close()
    click.echo(f"created token {info.name!r} (id {info.token_id}); it is shown only once:",
               err=True)  # fmt: skip
    click.echo(secret)


@token.command("list")
@_STORE_OPTION
@output_options
@common_options
def token_list(backend_store_uri: str | None, output: str, query: Any) -> None:
    """List tokens (names, ids and dates; never the tokens themselves)."""
    from runhistory.cli.output import emit
    from runhistory.sdk.timefmt import iso_utc

    store = _tokens(backend_store_uri)
    try:
        found = store.list()
    finally:
        store.close()
    rows = [
        {"name": t.name, "id": t.token_id, "created": iso_utc(t.created_time),
         "revoked": iso_utc(t.revoked_time) if t.revoked_time else None,
         "active": t.active}
        for t in found
    ]  # fmt: skip
    emit(rows, output, query)


@token.command("revoke")
@click.argument("name_or_id")
@_STORE_OPTION
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
