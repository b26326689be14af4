"""``runhistory server --workers N``: forked workers, replaced when they die, stopped together."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from support.services import postgres_database, start_server

POSTGRES_PORT_HEX = f"{5432:04X}"


def _workers(parent: int) -> set[int]:
    """The live child processes of ``parent``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def _postgres_connections(pid: int) -> int:
    """How many TCP connections to port 5432 process ``pid`` holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    count = 0
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[2].endswith(":" + POSTGRES_PORT_HEX) and fields[9] in inodes:
                count += 1
    return count


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_killed_worker_is_replaced_and_sigterm_stops_them_all(tmp_path: Path) -> None:
    with postgres_database("rh_forked") as database:
        server = start_server(database, tmp_path / "server.log", extra_args=["--workers", "2"],
                              artifact_location=str(tmp_path / "artifacts"))  # fmt: skip
        parent = server.process.pid
        try:
            _wait_for(lambda: len(_workers(parent)) == 2)
            first = _workers(parent)
            for _ in range(10):  # a new connection each: both workers answer
                assert httpx.get(f"{server.url}/api/v1/experiments").status_code == 200
            assert _postgres_connections(parent) == 0  # the parent closed its connections
            assert sum(_postgres_connections(pid) for pid in first) > 0

            victim = min(first)
            os.kill(victim, signal.SIGKILL)
            _wait_for(lambda: victim not in _workers(parent))
            assert httpx.get(f"{server.url}/healthz").status_code == 200  # the other one
            _wait_for(lambda: len(_workers(parent)) == 2)
            now = _workers(parent)
            assert now - first and victim not in now
            for _ in range(10):
                assert httpx.get(f"{server.url}/api/v1/experiments").status_code == 200
            assert f"worker {victim} was killed by SIGKILL" in server.log()

            server.process.send_signal(signal.SIGTERM)
            assert server.process.wait(20) == 0
            assert not any(Path(f"/proc/{pid}").exists() for pid in now)
        finally:
            server.stop()
