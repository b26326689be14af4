"""``runhistory server --workers N``: forked workers, replaced when they die or hang, replaced
one at a time on SIGHUP, stopped together; the stores are checked before the workers start."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg

from support.services import (
    BUCKET,
    moto_server,
    postgres_database,
    runhistory_command,
    s3_environment,
    start_server,
)

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


@contextmanager
def _two_workers(
    log: Path, artifact_location: str, extra_args: tuple[str, ...] = (), **start: Any
) -> Iterator[tuple[Any, set[int]]]:
    """A ``--workers 2`` server on a fresh PostgreSQL database, once both workers run: the
    server and its first two workers' pids; stopped afterwards."""
    with postgres_database("rh_forked") as database:
        server = start_server(database, log, extra_args=["--workers", "2", *extra_args],
                              artifact_location=artifact_location, **start)  # fmt: skip
        try:
            _wait_for(lambda: len(_workers(server.process.pid)) == 2)
            yield server, _workers(server.process.pid)
        finally:
            server.stop()


def test_a_killed_worker_is_replaced_and_sigterm_stops_them_all(tmp_path: Path) -> None:
    log, artifacts = tmp_path / "server.log", str(tmp_path / "artifacts")
    with _two_workers(log, artifacts) as (server, first):
        parent = server.process.pid
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


def test_sighup_replaces_the_workers_one_at_a_time_while_the_port_answers(
    tmp_path: Path,
) -> None:
    log, artifacts = tmp_path / "server.log", str(tmp_path / "artifacts")
    with _two_workers(log, artifacts) as (server, first):
        parent = server.process.pid
        server.process.send_signal(signal.SIGHUP)
        answers = []
        deadline = time.monotonic() + 30
        while _workers(parent) & first or len(_workers(parent)) != 2:
            assert time.monotonic() < deadline, "the workers were not replaced"
            # a new connection each time: whichever worker accepts it must answer
            answers.append(httpx.get(f"{server.url}/api/v1/experiments").status_code)
        assert answers and set(answers) == {200}
        assert len(_workers(parent)) == 2
        assert "starting another" not in server.log()  # a reload, not a failure
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(20) == 0


def test_a_stopped_worker_is_killed_after_the_timeout_and_replaced(tmp_path: Path) -> None:
    log, artifacts = tmp_path / "server.log", str(tmp_path / "artifacts")
    with _two_workers(log, artifacts, ("--worker-timeout", "1")) as (server, first):
        parent = server.process.pid
        hung = min(first)
        os.kill(hung, signal.SIGSTOP)  # alive, but answers nothing
        _wait_for(lambda: hung not in _workers(parent))
        _wait_for(lambda: len(_workers(parent)) == 2)
        assert f"worker {hung} did not answer for 1 s and was killed" in server.log()
        for _ in range(10):
            assert httpx.get(f"{server.url}/api/v1/experiments").status_code == 200
        assert (_workers(parent) & first) == first - {hung}  # the live one stayed


def test_two_workers_on_an_s3_store_start_and_take_uploads(tmp_path: Path) -> None:
    with (
        moto_server() as endpoint,
        _two_workers(
            tmp_path / "server.log", f"s3://{BUCKET}/artifacts", env=s3_environment(endpoint)
        ) as (server, _),
    ):
        with httpx.Client(base_url=server.url) as http:
            experiment = http.post("/api/v1/experiments", json={"name": "s3-workers"}).json()
            run = http.post("/api/v1/runs", json={"experiment_id": experiment["experiment_id"]})
            files = f"/api/v1/runs/{run.json()['run_id']}/files"
        for number in range(6):  # a new connection each: both workers upload
            content = f"upload {number}".encode()
            put = httpx.put(f"{server.url}{files}/outputs/{number}.txt", content=content)
            assert put.status_code == 200, put.text
            got = httpx.get(f"{server.url}{files}/outputs/{number}.txt")
            assert got.status_code == 200 and got.content == content
        assert "Traceback" not in server.log()


def test_with_workers_a_newer_schema_is_refused_before_any_worker_starts(
    tmp_path: Path,
) -> None:
    with postgres_database("rh_forked") as database:
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
            conn.execute("INSERT INTO alembic_version VALUES ('9999')")
        done = subprocess.run(
            [runhistory_command(), "server", "--port", "0", "--workers", "2",
             "--backend-store-uri", database, "--artifact-location", str(tmp_path)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 1
        assert "revision '9999'" in done.stderr and "newer runhistory" in done.stderr
        assert "Traceback" not in done.stderr
