"""Running the server: uvicorn in this process, or N forked worker processes.

The parent opens the stores once (creating an empty database's schema, or refusing an old or
newer one) before it listens, so a misconfigured server fails at once with a clear message.
With ``workers > 1`` the parent then closes them, imports the application's modules (FastAPI,
SQLAlchemy, psycopg, uvicorn's protocols) and forks the workers
(:class:`~runhistory.server.supervisor.Supervisor`): each starts with those modules already
imported, opens its own database connections, builds the application and serves the
inherited socket. The workers keep their Prometheus metrics in a shared folder, summed by
``/metrics``.

The listening socket is a TCP socket made with ``IPPROTO_TCP`` and ``TCP_NODELAY``: the event
loop then turns Nagle's algorithm off on every accepted connection, so small responses on a
kept-alive connection leave at once instead of waiting for the peer's delayed ACK (~40 ms).

HTTP is parsed by ``httptools`` and the event loop is ``uvloop`` when they are installed (the
``server`` extra installs both; B3 over HTTP measured about a sixth less server CPU a run
than with the pure-Python ``h11`` and asyncio loop, which serve otherwise).
``RUNHISTORY_SERVER_HTTP=python`` chooses the pure-Python pair anyway. The loop is made in
each worker, after the fork (:func:`_config` only names it); the parent merely imports its
module.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from runhistory.errors import StorageError
from runhistory.server.config import ServerSettings, Services, open_services
from runhistory.server.supervisor import Supervisor

_KEEP_ALIVE_SECONDS = 30
HTTP_VARIABLE = "RUNHISTORY_SERVER_HTTP"
log = logging.getLogger("runhistory.server")


def implementations() -> tuple[str, str]:
    """uvicorn's HTTP protocol and event loop for this server: ``("httptools", "uvloop")``
    where they are installed, each falling back on its own to ``h11`` / ``asyncio``; both
    pure-Python ones when ``RUNHISTORY_SERVER_HTTP`` is ``python``."""
    if os.environ.get(HTTP_VARIABLE, "auto").strip().lower() == "python":
        return "h11", "asyncio"
    return (
        "httptools" if _importable("httptools") else "h11",
        "uvloop" if _importable("uvloop") and sys.platform != "win32" else "asyncio",
    )


def _importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket with ``TCP_NODELAY`` (``port`` 0 picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(
    settings: ServerSettings, sock: socket.socket, workers: int = 1, log_level: str = "info"
) -> None:
    """Serve on ``sock`` until interrupted; with ``workers > 1`` in that many forked processes.

    Raises:
        SchemaVersionError: the database schema is older (run ``runhistory db upgrade``) or
            was written by a newer runhistory.
        StorageError: the stores cannot be opened.
    """
    http, loop = implementations()
    log.info("HTTP parsed by %s, event loop %s", http, loop)
    if workers <= 1:
        import uvicorn

        from runhistory.server.app import create_app

        services = open_services(settings)  # before accepting any request
        app: Any = create_app(settings, services)
        uvicorn.Server(_config(app, settings, log_level)).run(sockets=[sock])
        return
    with _shared_metrics_folder():  # before prometheus_client is imported
        open_services(settings).close()  # before accepting any request
        _import_worker_modules(settings, log_level)
        _check_no_threads()
        supervisor = Supervisor(
            workers, partial(_work, settings, sock, log_level), on_exit=_forget_metrics
        )
        supervisor.run()


def _import_worker_modules(settings: ServerSettings, log_level: str) -> None:
    """Import what a worker runs (the application, uvicorn's protocols and event loop, the
    Prometheus client) once in the parent: every forked worker then starts with them."""
    import prometheus_client.multiprocess  # noqa: F401 (the shared folder is set by now)
    import uvicorn  # noqa: F401

    from runhistory.server import app  # noqa: F401

    async def nothing(scope: Any, receive: Any, send: Any) -> None:
        """A placeholder application: loading a configuration imports uvicorn's protocols."""

    config = _config(nothing, settings, log_level)
    config.load()
    config.get_loop_factory()  # imports the event loop's module; makes no loop


# Threads whose library starts afresh in a forked child: fsspec's event-loop thread (opened by
# an S3 artifact store) is forgotten by fsspec's own at-fork handler, and the child's first S3
# call starts its own loop.
_FORK_SAFE_THREADS = frozenset({"fsspecIO"})


def _check_no_threads() -> None:
    """A forked worker inherits no thread: locks a thread held would stay held there. Threads
    of :data:`_FORK_SAFE_THREADS` are allowed: their library resets itself in the child."""
    others = [
        t.name
        for t in threading.enumerate()
        if t is not threading.main_thread() and t.name not in _FORK_SAFE_THREADS
    ]
    if others:
        raise StorageError(
            f"threads still run after the stores were closed ({', '.join(others)}); "
            "the server cannot fork its workers"
        )


def _work(settings: ServerSettings, sock: socket.socket, log_level: str) -> None:
    """One forked worker: its own services and application, serving the inherited socket."""
    import uvicorn

    from runhistory.server.app import create_app

    try:
        services: Services = open_services(settings)
    except Exception as exc:  # e.g. the database is down while a worker restarts
        logging.getLogger("runhistory.server").error(
            "worker %d cannot open the stores (%s)", os.getpid(), exc
        )
        raise SystemExit(1) from exc
    try:
        app: Any = create_app(settings, services)
        uvicorn.Server(_config(app, settings, log_level)).run(sockets=[sock])
    finally:
        services.close()


def _forget_metrics(pid: int) -> None:
    """Drop a stopped worker's live gauges from the shared metrics (its counters stay)."""
    from runhistory.server.operations import MULTIPROCESS_VARIABLE

    if os.environ.get(MULTIPROCESS_VARIABLE):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


@contextmanager
def _shared_metrics_folder() -> Iterator[None]:
    """A private folder where the workers keep their Prometheus metrics (summed by
    ``/metrics``), unless the operator chose one; removed at the end."""
    from runhistory.server.operations import MULTIPROCESS_VARIABLE

    if os.environ.get(MULTIPROCESS_VARIABLE):
        yield
        return
    folder = tempfile.mkdtemp(prefix="runhistory-metrics-")
    os.environ[MULTIPROCESS_VARIABLE] = folder  # inherited by the workers
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_VARIABLE]
        shutil.rmtree(folder, ignore_errors=True)


def _config(app: Any, settings: ServerSettings, log_level: str) -> Any:
    import uvicorn

    http, loop = implementations()
    return uvicorn.Config(
        app,
        http=http,
        loop=loop,
        log_level=log_level,
        timeout_keep_alive=_KEEP_ALIVE_SECONDS,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
