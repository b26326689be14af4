"""Running the server: uvicorn in this process, or uvicorn's supervisor with N workers.

The parent opens the stores once (creating an empty database's schema, or refusing an old or
newer one) before it listens, so a misconfigured server fails at once with a clear message.
With ``workers > 1`` uvicorn's own supervisor starts the workers (and restarts one that dies);
each builds the application from the same :class:`ServerSettings`, handed over as a Python
object, and opens its own database connections.

The listening socket is a TCP socket made with ``IPPROTO_TCP`` and ``TCP_NODELAY``: the event
loop then turns Nagle's algorithm off on every accepted connection, so small responses on a
kept-alive connection leave at once instead of waiting for the peer's delayed ACK (~40 ms).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from runhistory.server.config import ServerSettings, Services, open_services

_KEEP_ALIVE_SECONDS = 30


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
    """Serve on ``sock`` until interrupted; with ``workers > 1`` through uvicorn's supervisor.

    Raises:
        SchemaVersionError: the database schema is older (run ``runhistory db upgrade``) or
            was written by a newer runhistory.
        StorageError: the stores cannot be opened.
    """
    import uvicorn

    services = open_services(settings)  # before accepting any request
    if workers <= 1:
        from runhistory.server.app import create_app

        app: Any = create_app(settings, services)
        uvicorn.Server(_config(app, settings, log_level)).run(sockets=[sock])
        return
    services.close()
    from uvicorn.supervisors import Multiprocess

    config = _config(WorkerApp(settings), settings, log_level, workers=workers)
    with _shared_metrics_folder():
        Multiprocess(config, sockets=[sock]).run()


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


def _config(app: Any, settings: ServerSettings, log_level: str, workers: int = 1) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        workers=workers,
        log_level=log_level,
        timeout_keep_alive=_KEEP_ALIVE_SECONDS,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


class WorkerApp:
    """The ASGI application of one worker process, built from the settings on first use.

    The supervisor hands this object (settings only, no connections) to every worker it
    starts; the first ASGI call there (uvicorn's lifespan start-up) opens that worker's
    services and builds the FastAPI application.
    """

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self._app: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"settings": self.settings, "_app": None}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            from runhistory.server.app import create_app

            try:
                services: Services = open_services(self.settings)
            except Exception as exc:  # e.g. the database is down while a worker restarts
                logging.getLogger("runhistory.server").error(
                    "worker %d cannot open the stores (%s); it tries again on the next request",
                    os.getpid(), exc,
                )  # fmt: skip
                raise
            self._app = create_app(self.settings, services)
        await self._app(scope, receive, send)
