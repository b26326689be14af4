"""A real single-node Ray cluster on loopback for tests (``ray start --head --block``).

The head runs in its own process group under a temporary folder of its own; stopping it ends
that group and then any leftover process whose command line names that folder — never another
Ray on the machine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from support.services import ServerProcess, free_port

TARGET = "raycluster"


@dataclass
class RaySetup:
    """The cluster's job server, the tracking server and a token of that server."""

    address: str
    server: ServerProcess
    token: str


def _ours(folder: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if folder.encode() in handle.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


class _StartFailed(Exception):
    """The head came up broken (a crashed raylet); starting again may work."""


def _raylet_crashed(folder: str) -> bool:
    path = Path(folder) / "session_latest" / "logs" / "raylet.out"
    try:
        return "Check failed" in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _wait_for_job_server(
    address: str, process: subprocess.Popen[bytes], log: Path, folder: str
) -> None:
    from ray.job_submission import JobSubmissionClient

    deadline = time.monotonic() + 240
    while True:
        if process.poll() is not None or _raylet_crashed(folder):
            raise _StartFailed(
                f"ray start failed ({process.returncode}):\n{log.read_text()[-3000:]}"
            )
        try:  # a trivial job: the job agent is up, not only the dashboard
            client = JobSubmissionClient(address)
            job = client.submit_job(entrypoint="python -c pass")
            while client.get_job_status(job).value not in ("SUCCEEDED", "FAILED", "STOPPED"):
                time.sleep(0.2)
            return
        except Exception as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the Ray job server at {address} did not answer: {exc}"
                ) from exc
            time.sleep(0.5)


def _launch(num_cpus: int) -> tuple[subprocess.Popen[bytes], str, str]:
    folder = tempfile.mkdtemp(prefix="rh-ray-", dir="/tmp")  # short: Ray's sockets live there
    port, dashboard = free_port(), free_port()
    bin_dir = os.path.dirname(sys.executable)
    env = {
        **os.environ,
        "RAY_USAGE_STATS_ENABLED": "0",
        # A loaded machine starts Ray's parts slowly: wait for them instead of failing.
        "RAY_raylet_start_wait_time_s": "180",
        "RAY_agent_register_timeout_ms": "300000",
        "RAY_DASHBOARD_STARTUP_TIMEOUT_S": "300",
        # Stopped at once: on SIGTERM Ray otherwise drains the node first, up to 30 s (about
        # 10 s after this suite's jobs), which nothing of a cluster thrown away needs.
        "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    for name in ("RAY_ADDRESS", "RUNHISTORY_TRACKING_URI", "RUNHISTORY_TRACKING_TOKEN"):
        env.pop(name, None)
    command = [os.path.join(bin_dir, "ray"), "start", "--head", f"--port={port}",
               "--node-ip-address=127.0.0.1",
               "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard}",
               f"--num-cpus={num_cpus}", "--include-dashboard=true", f"--temp-dir={folder}",
               "--disable-usage-stats", "--block"]  # fmt: skip
    with open(Path(folder) / "head.log", "ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
    return process, folder, f"http://127.0.0.1:{dashboard}"


def _stop(process: subprocess.Popen[bytes], folder: str) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in _ours(folder):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    # Not waited for: the folder holds Ray's copy of this virtual environment for each job
    # with pip packages (gigabytes), removed in about 6 s.
    subprocess.Popen(["rm", "-rf", folder], start_new_session=True)


@contextmanager
def ray_head(num_cpus: int = 2, attempts: int = 3) -> Iterator[str]:
    """Start a Ray head with its dashboard and job server; yields the job server's address.

    On a loaded machine the raylet may give up on its agents while they start; the head is
    then started again (at most ``attempts`` times).
    """
    for attempt in range(1, attempts + 1):
        process, folder, address = _launch(num_cpus)
        try:
            _wait_for_job_server(address, process, Path(folder) / "head.log", folder)
        except _StartFailed:
            _stop(process, folder)
            if attempt == attempts:
                raise
            continue
        except BaseException:
            _stop(process, folder)
            raise
        try:
            yield address
        finally:
            _stop(process, folder)
        return
