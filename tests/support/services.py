"""Real services on loopback for tests: a moto S3 server and a ``runhistory server``.

Nothing here is a mock: each is a subprocess serving real HTTP on 127.0.0.1, started on a free
port and stopped (terminate, then kill) when done.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

BUCKET = "runhistory-tests"
ACCESS_KEY = "testing-key-id"
SECRET_KEY = "testing-secret-key"
# Every storage a user can run, as the contract suite's ``backend_name``: embedded SQLite and
# PostgreSQL, and servers on PostgreSQL (with auth and S3) and on SQLite (a local folder).
ALL_STORAGES = ("sqlite", "postgresql", "server", "server-sqlite")
POSTGRES_URL = os.environ.get(
    "RUNHISTORY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[Any], timeout: float = 30.0) -> float:
    """Poll ``url`` until it answers; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return time.monotonic() - started
        except (urllib.error.URLError, OSError):
            time.sleep(0.02)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen[Any]) -> None:
    """Terminate a subprocess, killing it if it does not stop in 10 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class MotoServer:
    """A moto S3 server on a port of its own, with bucket :data:`BUCKET`; it can be stopped
    and started again on the same port (an object store that goes away and comes back).

    Args:
        recording: the file moto's request recorder writes to (its ``moto-api/recorder``
            endpoints), or ``None`` for moto's default.
    """

    def __init__(self, recording: Path | None = None) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.recording = recording
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers; the bucket is made (again)."""
        command = [sys.executable, "-m", "moto.server", "-p", str(self.port), "-H", "127.0.0.1"]
        env = dict(os.environ)
        if self.recording is not None:
            env["MOTO_RECORDER_FILEPATH"] = str(self.recording)
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_until_up(self.endpoint, self.process)
            s3_client(self.endpoint).create_bucket(Bucket=BUCKET)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (a stopped one stays stopped)."""
        if self.process is not None:
            stop(self.process)
            self.process = None


@contextmanager
def moto_server(recording: Path | None = None) -> Iterator[str]:
    """A moto S3 server with bucket :data:`BUCKET` (see :class:`MotoServer`); yields its
    endpoint URL."""
    server = MotoServer(recording)
    server.start()
    try:
        yield server.endpoint
    finally:
        server.stop()


def s3_client(endpoint: str) -> Any:
    """A boto3 client of the test S3 server."""
    import boto3

    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
    )  # fmt: skip


def s3_environment(endpoint: str) -> dict[str, str]:
    """The standard AWS variables pointing a process at the test S3 server."""
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
    }


@contextmanager
def postgres_database(prefix: str = "rh_test") -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; yields its URL.

    Raises:
        RuntimeError: the server of ``RUNHISTORY_TEST_POSTGRES`` cannot be reached (the tests
            that need it fail; nothing is skipped).
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise RuntimeError(
            f"PostgreSQL is required for these tests ({POSTGRES_URL}): {exc}"
        ) from exc
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_schema(database_url: str) -> str:
    """A new, empty schema in a database; returns a URL whose search path is that schema."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{database_url}?options=-csearch_path%3D{schema}"


@dataclass
class ServerProcess:
    """A running ``runhistory server`` subprocess."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    command: list[str]
    env: dict[str, str]
    startup_seconds: float

    def log(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL)."""
        stop(self.process)

    def restart(self) -> None:
        """Start the same server again on the same port."""
        self.stop()
        self.process, self.startup_seconds = _launch(
            self.command, self.env, self.log_path, self.url
        )


def runhistory_command() -> str:
    """The ``runhistory`` console script of this environment."""
    found = shutil.which("runhistory", path=os.path.dirname(sys.executable))
    if found is None:
        raise RuntimeError(f"no runhistory script next to {sys.executable}")
    return found


def _launch(
    command: list[str], env: dict[str, str], log_path: Path, url: str
) -> tuple[subprocess.Popen[bytes], float]:
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        seconds = wait_until_up(f"{url}/healthz", process)
    except BaseException:
        stop(process)
        raise
    return process, seconds


def start_server(
    backend_store_uri: str,
    log_path: Path,
    artifact_location: str | None = None,
    extra_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> ServerProcess:
    """Start ``runhistory server`` on a free loopback port and wait until it is healthy."""
    port = port or free_port()
    command = [
        runhistory_command(),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        backend_store_uri,
        "--log-level",
        "warning",
        *extra_args,
    ]
    if artifact_location:
        command += ["--artifact-location", artifact_location]
    full_env = {**os.environ, "RUNHISTORY_QUIET": "1", **(env or {})}
    url = f"http://127.0.0.1:{port}"
    process, seconds = _launch(command, full_env, log_path, url)
    return ServerProcess(url, port, process, log_path, command, full_env, seconds)


@contextmanager
def server_on(
    store: str,
    folder: Path,
    prefix: str,
    *,
    workspace: bool = False,
    home: str = "home",
    env: dict[str, str] | None = None,
) -> Iterator[ServerProcess]:
    """A real ``runhistory server`` on ``store``, stopped afterwards (its database dropped).

    ``store`` is ``"sqlite"``: the file ``runhistory.db`` in ``folder``, or with ``workspace``
    the workspace folder ``folder/ws``; or ``"postgresql"``: a fresh database named
    ``<prefix>_<hex>``. Artifacts go to ``folder/artifacts`` (a workspace folder keeps its
    own), the log to ``folder/server.log``; the server's ``RUNHISTORY_HOME`` is
    ``folder/<home>`` and ``env`` adds variables.
    """
    artifacts: str | None = str(folder / "artifacts")
    with ExitStack() as stack:
        if store == "postgresql":
            backend = stack.enter_context(postgres_database(prefix))
        elif store != "sqlite":
            raise ValueError(f"unknown store {store!r}: 'sqlite' or 'postgresql'")
        elif workspace:
            backend, artifacts = str(folder / "ws"), None
        else:
            backend = f"sqlite:///{folder / 'runhistory.db'}"
        variables = {"RUNHISTORY_HOME": str(folder / home), **(env or {})}
        server = start_server(backend, folder / "server.log", artifact_location=artifacts,
                              env=variables)  # fmt: skip
        try:
            yield server
        finally:
            server.stop()
