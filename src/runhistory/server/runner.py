"""Running the server: uvicorn in this process, or N forked worker processes.

The stores are opened once (creating an empty database's schema, or refusing an old or newer
one) before any request is served, so a misconfigured server fails at once with a clear
message. With ``workers > 1`` that check runs in a forked process of its own
(:class:`_StoreCheck`) while the parent imports the application's modules (FastAPI,
SQLAlchemy, psycopg, uvicorn's protocols): the database's work (creating the schema) overlaps
the imports, and the parent itself never opens a connection or a client that starts a thread
(an S3 store's event loop). It then forks the workers
(:class:`~runhistory.server.supervisor.Supervisor`): each starts with those modules imported
and the application built, opens its own database connections and artifact-store client,
and serves the inherited socket; its event loop beats to tell the parent it is alive. The
workers keep their Prometheus metrics in a shared folder, summed by ``/metrics``.

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

import contextlib
import gc
import logging
import os
import pickle
import shutil
import signal
import socket
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from runhistory.errors import StorageError
from runhistory.server.config import ServerSettings, Services, open_services
from runhistory.server.supervisor import (
    WORKER_TIMEOUT_SECONDS,
    Supervisor,
    beat,
    exit_forked,
)

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
    settings: ServerSettings,
    sock: socket.socket,
    workers: int = 1,
    log_level: str = "info",
    worker_timeout: float = WORKER_TIMEOUT_SECONDS,
) -> None:
    """Serve on ``sock`` until interrupted; with ``workers > 1`` in that many forked processes
    (one silent for ``worker_timeout`` seconds is killed and replaced).

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
        gc.disable()  # the imports make objects that live on: collecting meanwhile is wasted
        try:
            _import_store_modules()  # once, for the check's process and the workers
            _check_no_threads()
            check = _StoreCheck(settings)  # before accepting any request
            try:
                config = _worker_config(settings, log_level)  # meanwhile
            finally:
                check.wait()
            _check_no_threads()
            gc.freeze()  # a worker's collections leave the parent's objects alone (no copy)
        finally:
            gc.enable()
        supervisor = Supervisor(workers, partial(_work, settings, sock, config),
                                on_exit=_forget_metrics, timeout=worker_timeout)  # fmt: skip
        supervisor.run()


def _worker_config(settings: ServerSettings, log_level: str) -> Any:
    """The application (without its services) and uvicorn's configuration, built once in the
    parent with everything a worker imports (FastAPI, uvicorn's protocols and event loop, the
    Prometheus client): every forked worker starts with them."""
    import prometheus_client.multiprocess  # noqa: F401 (the shared folder is set by now)

    from runhistory.server.app import create_app

    config = _config(create_app(settings, None), settings, log_level)
    config.load()  # imports uvicorn's protocols
    config.get_loop_factory()  # imports the event loop's module; makes no loop
    return config


def _import_store_modules() -> None:
    """Import what opening the stores needs (SQLAlchemy, the database driver, the store)
    before the check forks: the check's process and every worker then start with these
    imports done."""
    import runhistory.artifacts.fsspec_store
    import runhistory.client.backend
    import runhistory.store.sql.store
    import runhistory.tracking.service  # noqa: F401

    with contextlib.suppress(ImportError):  # PostgreSQL's driver is an optional extra
        import psycopg  # noqa: F401
        import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401


class _StoreCheck:
    """Opens and closes the stores (:func:`open_services`) in a forked process; :meth:`wait`
    raises the error it met.

    The parent goes on importing meanwhile, and never holds a connection, an artifact store's
    client or a thread of theirs: a worker forked later inherits none.
    """

    def __init__(self, settings: ServerSettings) -> None:
        self._read, write = os.pipe()
        sys.stdout.flush()  # else the child would write the parent's buffered output again
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover (runs in the forked process)
            os.close(self._read)
            _check_in_child(settings, write)
        os.close(write)

    def wait(self) -> None:
        """Wait for the check; raise its error (the check is killed if this is interrupted).

        Raises:
            SchemaVersionError, StorageError, ConfigurationError: as :func:`open_services`.
        """
        pid, self.pid = self.pid, 0
        try:
            with os.fdopen(self._read, "rb") as answer:
                payload = answer.read()
            _, status = os.waitpid(pid, 0)
        except BaseException:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            raise
        finally:
            _forget_metrics(pid)
        if payload:
            raise pickle.loads(payload)
        if status != 0:
            raise StorageError(
                f"the check of the stores ended with status {os.waitstatus_to_exitcode(status)}"
            )


def _check_in_child(settings: ServerSettings, write: int) -> None:
    """The check's process: open and close the stores, write the error (pickled) to ``write``
    if that failed; never returns."""
    status = 0
    gc.enable()  # off in the parent while it imports; an old SQLite file may migrate here
    try:
        try:
            open_services(settings).close()
            payload = b""
        except BaseException as exc:
            status = 1
            payload = _pickled(exc)
        with os.fdopen(write, "wb") as out:
            out.write(payload)
    finally:
        exit_forked(status)


def _pickled(exc: BaseException) -> bytes:
    """``exc`` pickled, its traceback (from the check's process) kept as a note for --debug;
    one that cannot be pickled becomes a :class:`StorageError` with its type and message."""
    note = "in the server's check of the stores:\n" + "".join(traceback.format_exception(exc))
    try:
        if sys.version_info >= (3, 11):
            exc.add_note(note)  # shown with the traceback (--debug)
        return pickle.dumps(exc)
    except Exception:
        return pickle.dumps(StorageError(f"{type(exc).__name__}: {exc}"))


def _check_no_threads() -> None:
    """A forked worker inherits no thread: locks a thread held would stay held there, and its
    library would believe it still runs. The parent starts none (the stores are checked in a
    process of their own); a library that does anyway stops the server here."""
    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if others:
        raise StorageError(
            f"threads run in the server's parent process ({', '.join(others)}); "
            "it cannot fork its workers"
        )


def _work(settings: ServerSettings, sock: socket.socket, config: Any) -> None:
    """One forked worker: its own services in the parent's application, serving the inherited
    socket."""
    import uvicorn

    try:
        services: Services = open_services(settings, check_key=False)  # checked at start
    except Exception as exc:  # e.g. the database is down while a worker restarts
        logging.getLogger("runhistory.server").error(
            "worker %d cannot open the stores (%s)", os.getpid(), exc
        )
        raise SystemExit(1) from exc

    class Worker(uvicorn.Server):
        """uvicorn's server, telling the supervisor at every tick of its loop that it lives."""

        async def on_tick(self, counter: int) -> bool:
            beat()
            return await super().on_tick(counter)

    try:
        config.app.state.services = services
        Worker(config).run(sockets=[sock])
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
