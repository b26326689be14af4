"""Running the server: one process, or a parent that forks N workers sharing one socket.

The parent opens the stores once (migrating the schema, or refusing a newer one) before it
listens, so a misconfigured server fails at once with a clear message. Each worker then opens
its own connections after the fork; the settings reach the workers as a Python object, never
through environment variables.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from types import FrameType

from runhistory.server.config import ServerSettings, open_services

_RESTART_DELAY = 1.0


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket (``port`` 0 picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    settings: ServerSettings, sock: socket.socket, workers: int = 1, log_level: str = "info"
) -> None:
    """Serve on ``sock`` until interrupted; with ``workers > 1`` fork that many processes.

    Raises:
        SchemaVersionError: the database was written by a newer runhistory.
        StorageError: the stores cannot be opened.
    """
    services = open_services(settings)  # migrate (or refuse) before accepting requests
    if workers <= 1:
        _serve_one(settings, services, sock, log_level)
        return
    services.close()
    _Supervisor(settings, sock, workers, log_level).run()


def _serve_one(
    settings: ServerSettings, services: object, sock: socket.socket, log_level: str
) -> None:
    import uvicorn

    from runhistory.server.app import create_app

    app = create_app(settings, services)  # type: ignore[arg-type]
    config = uvicorn.Config(app, log_level=log_level, timeout_keep_alive=30)
    uvicorn.Server(config).run(sockets=[sock])


class _Supervisor:
    """Forks the workers, restarts one that dies, and stops them all on SIGINT/SIGTERM."""

    def __init__(
        self, settings: ServerSettings, sock: socket.socket, workers: int, log_level: str
    ) -> None:
        self.settings = settings
        self.sock = sock
        self.workers = workers
        self.log_level = log_level
        self.children: set[int] = set()
        self.stopping = False

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for _ in range(self.workers):
            self._spawn()
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            self.children.discard(pid)
            if not self.stopping:
                print(f"runhistory server: worker {pid} exited ({status}); restarting it",
                      file=sys.stderr)  # fmt: skip
                time.sleep(_RESTART_DELAY)
                self._spawn()

    def _spawn(self) -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            try:
                _serve_one(self.settings, open_services(self.settings), self.sock, self.log_level)
            finally:
                os._exit(0)
        self.children.add(pid)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                self.children.discard(pid)
