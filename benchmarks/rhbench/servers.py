"""Starting and stopping ``runhistory server`` and ``mlflow server`` for the HTTP workloads."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rhbench.harness import ML, RH, Harness, NotAvailable, TimedOut, WorkerError, group_pids
from rhbench.pg import for_mlflow

WORKERS = 2  # one server process per core on the reference machine, for both servers
# B3 over HTTP runs runhistory's server with one process (its default): on 2 cores shared with
# PostgreSQL and 8 client processes, a second process halves its write groups and costs more CPU
# a run than it adds (measured 2026-12-04: ~1,040 vs ~650 runs/s); MLflow keeps two.
B3_HTTP_WORKERS = {RH: 1, ML: WORKERS}
HEALTH = {RH: "/healthz", ML: "/health"}
START_TIMEOUT = 120.0
JOB_QUEUE_VARIABLE = b"_MLFLOW_HUEY_STORAGE_PATH"  # mlflow server's job queues' folder
TEMP_PARENTS = {Path("/dev/shm"), Path(tempfile.gettempdir())}


@dataclass
class Server:
    """A running server process and where it listens."""

    side: str
    url: str
    process: Any
    started_s: float
    command: list[str]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def command(
    h: Harness, side: str, database_url: str, artifacts: Path, port: int, workers: int = WORKERS
) -> list[str]:
    """The command line that starts a side's server on PostgreSQL (``workers`` processes)."""
    common = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    if side == RH:
        script = Path(h.python(RH)).parent / "runhistory"
        _check_rh_server(script)
        return [
            str(script),
            "server",
            "--backend-store-uri",
            database_url,
            "--artifact-location",
            str(artifacts),
            "--log-level",
            "warning",
            *common,
        ]
    script = Path(h.python(ML)).parent / "mlflow"
    return [
        str(script),
        "server",
        "--backend-store-uri",
        for_mlflow(database_url),
        "--default-artifact-root",
        str(artifacts),
        *common,
    ]


def _check_rh_server(script: Path) -> None:
    probe = subprocess.run(
        [str(script), "server", "--help"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        raise NotAvailable("this runhistory has no working `runhistory server` command")


@contextmanager
def running(
    h: Harness,
    side: str,
    database_url: str,
    folder: Path,
    workers: int = WORKERS,
    lasting: bool = False,
) -> Iterator[Server]:
    """Start a side's server on ``database_url`` (``workers`` processes), wait until it is
    healthy, stop it after. ``lasting``: it serves the repetitions after the one that started
    it too (see :meth:`Harness.adopt`): the repetition's end does not kill it."""
    port = free_port()
    argv = command(h, side, database_url, folder / "artifacts", port, workers)
    log = (folder / f"{side}-server.log").open("w")
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        cwd=folder,
        env=h.env(side, folder),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    h.watch_log(folder / f"{side}-server.log")
    h.adopt(process, f"{side} server", folder / f"{side}-server.log", lasting)
    try:
        health, log_path = url + HEALTH[side], folder / f"{side}-server.log"
        # never past the repetition's time limit
        elapsed = wait_healthy(health, process, started, log_path, h.time_left(START_TIMEOUT))
        wait_settled(process.pid, min(60.0, h.time_left(60.0)))
        yield Server(side, url, process, elapsed, argv)
    finally:
        stop(process)
        log.close()


def _group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) of the live processes of a process group."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def wait_settled(pgid: int, timeout: float = 60.0) -> None:
    """Wait until a healthy server's processes are idle: every worker has started.

    The first worker to start answers the health check while the others may still be
    importing; clients connecting then would all keep their connection to that one worker
    and the measure would be of one server process, not of :data:`WORKERS`.
    """
    deadline = time.monotonic() + timeout
    last = _group_cpu(pgid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _group_cpu(pgid)
        if now - last < 0.05:
            return
        last = now


def wait_healthy(
    url: str, process: Any, started: float, log: Path, timeout: float = START_TIMEOUT
) -> float:
    """Poll ``url`` every 10 ms until it answers 200; seconds since ``started``."""
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise WorkerError(f"server exited with status {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.01)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:])
    raise TimedOut(f"{url} did not answer within {timeout:.0f} s; its log ends with:\n{tail}")


def stop(process: Any) -> None:
    """SIGTERM the server's process group (it was started in its own session), then SIGKILL;
    then SIGKILL what is left of the group (workers, job runners) and delete the scratch
    folders ``mlflow server`` makes for its job queues (``/dev/shm/tmp…``, never removed)."""
    scratch = _job_queue_folders(process.pid)
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    if group_pids(process.pid):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for folder in scratch:
        shutil.rmtree(folder, ignore_errors=True)


def _job_queue_folders(pgid: int) -> set[Path]:
    """The folders named by ``_MLFLOW_HUEY_STORAGE_PATH`` in the group's environments."""
    found = set()
    for pid in group_pids(pgid):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for item in environ:
            if item.startswith(JOB_QUEUE_VARIABLE + b"="):
                folder = Path(item.split(b"=", 1)[1].decode(errors="replace"))
                if folder.name.startswith("tmp") and folder.parent in TEMP_PARENTS:
                    found.add(folder)
    return found
