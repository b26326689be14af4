"""``runhistory server``, ``ui``, ``sync`` and ``token``: running and feeding a tracking server.

These commands import the server stack (FastAPI, uvicorn) only when they run.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import click

from runhistory.cli.options import common_options
from runhistory.cli.tokens import token
from runhistory.cli.workspace import store_location

__all__ = ["server", "sync", "token", "ui"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="RUNHISTORY_SERVER_HOST",
              help="Address to listen on.")  # fmt: skip
@click.option("--port", default=5000, show_default=True, type=int,
              envvar="RUNHISTORY_SERVER_PORT", help="Port to listen on.")  # fmt: skip
@click.option(
    "--backend-store-uri", metavar="URI", envvar="RUNHISTORY_BACKEND_STORE_URI",
    help="postgresql://…, sqlite:///… or a folder (default: the CLI's workspace).",
)  # fmt: skip
@click.option(
    "--artifact-location", metavar="URI", envvar="RUNHISTORY_ARTIFACT_LOCATION",
    help="Folder or s3://bucket/prefix for run files (needed with postgresql://).",
)  # fmt: skip
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64),
    envvar="RUNHISTORY_SERVER_WORKERS", help="Server processes sharing the port.",
)  # fmt: skip
@click.option(
    "--worker-timeout", default=30.0, show_default=True, type=click.FloatRange(min=1.0),
    envvar="RUNHISTORY_SERVER_WORKER_TIMEOUT", metavar="SECONDS",
    help="With --workers > 1: a worker whose event loop is silent this long is killed and "
    "replaced.",
)  # fmt: skip
@click.option("--auth", is_flag=True, envvar="RUNHISTORY_SERVER_AUTH",
              help="Require a token (see `runhistory token`).")  # fmt: skip
@click.option(
    "--secret-key-file", metavar="PATH", envvar="RUNHISTORY_SECRET_KEY_FILE",
    help="Key encrypting workspace secrets; give every server of one database the same.",
)  # fmt: skip
@click.option(
    "--public-url", metavar="URL", envvar="RUNHISTORY_PUBLIC_URL",
    help="The address users open (behind a proxy: https://…), shown in messages and given "
    "to clients for portal links.",
)  # fmt: skip
@click.option(
    "--forwarded-allow-ips", metavar="IPS", envvar="RUNHISTORY_FORWARDED_ALLOW_IPS",
    default="127.0.0.1", show_default=True,
    help="Proxies whose X-Forwarded-Proto/-For headers are trusted (comma-separated, or *).",
)  # fmt: skip
@click.option(
    "--log-level", default="info", show_default=True, envvar="RUNHISTORY_SERVER_LOG_LEVEL",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)  # fmt: skip
@common_options
def server(host: str, port: int, backend_store_uri: str | None, artifact_location: str | None,
           workers: int, worker_timeout: float, auth: bool, secret_key_file: str | None,
           public_url: str | None, forwarded_allow_ips: str, log_level: str) -> None:  # fmt: skip
    """Run the runhistory tracking server (REST API under /api/v1, studio at /).

    An empty database gets its schema at start; an older one is refused until `runhistory db
    upgrade` ran (a SQLite workspace upgrades itself after a backup). Every option can also
    be set with the RUNHISTORY_* environment variable named in docs/settings.md.
    Example: runhistory server --backend-store-uri postgresql://ml@db/runs
    --artifact-location s3://ml-runs/artifacts --host 0.0.0.0 --workers 4 --auth
    """
    from runhistory.server.config import ServerSettings
    from runhistory.server.runner import bind, implementations, serve

    uri, artifacts = store_location(backend_store_uri, artifact_location)
    settings = ServerSettings(backend_store_uri=uri, artifact_location=artifacts, auth=auth,
                              secret_key_file=secret_key_file, public_url=public_url,
                              forwarded_allow_ips=forwarded_allow_ips)  # fmt: skip
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    shown = f"[{host}]" if ":" in host else host
    http, loop = implementations()
    click.echo(f"runhistory server on http://{shown}:{sock.getsockname()[1]} ({workers} "
               f"worker{'s' if workers > 1 else ''}, auth {'on' if auth else 'off'}, "
               f"HTTP {http}, loop {loop})", err=True)  # fmt: skip
    serve(settings, sock, workers=workers, log_level=log_level, worker_timeout=worker_timeout)


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

    uri, artifacts = store_location(None, None)
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
    """Send metric values and run changes spooled by processes that ended before their
    server stored them."""
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
    from runhistory.retry import Backoff, on, retry

    uri = spool.tracking_uri()
    http = HttpClient(uri, token=settings.get("RUNHISTORY_TRACKING_TOKEN"))
    sender = BatchSender(http)
    batches = values = 0
    try:
        backoff = Backoff(first=0.5, cap=5.0, seconds=retry_seconds)
        for batch in spool.pending():
            refusals = retry(partial(sender.send, [batch]), on(StorageError), backoff)
            for refusal in refusals[0]:
                run = refusal.fields.get("run_id")
                where = f" of run {run!r}" if isinstance(run, str) else ""
                click.echo(f"runhistory: the server refused a change{where}: {refusal}", err=True)
            spool.remove(batch)
            batches, values = batches + 1, values + batch.points
    finally:
        http.close()
        spool.close()
    return batches, values
