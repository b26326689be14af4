"""Points per second logged over HTTP to a ``runhistory server`` on PostgreSQL.

Starts a fresh PostgreSQL database and a real ``runhistory server`` subprocess (local artifact
folder), then measures, from the first ``run.log`` to the end of ``run.flush()`` (every point
stored by the server):

* one client process logging ``--points`` points;
* ``--clients`` client processes at once, each logging ``--points`` points to its own run.

It also times the server's cold start (process launch to first healthy answer) and a
downsampled chart read (``POST /api/v1/metrics/series``) of every run. No assertions; numbers
depend on the machine.

    python benchmarks/http_logging.py                 # 200,000 points per client, 8 clients
    python benchmarks/http_logging.py --quick         # 20,000 points per client
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

POSTGRES_URL = os.environ.get(
    "RUNHISTORY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)

_CLIENT = """
import sys, time
from runhistory import Experiment, Workspace
url, points = sys.argv[1], int(sys.argv[2])
run = Experiment(Workspace(tracking_uri=url), "bench").start_logging()
sys.stdout.write("ready\\n"); sys.stdout.flush(); sys.stdin.readline()
started = time.perf_counter()
for step in range(points):
    run.log("loss", 1.0 / (step + 1), step=step)
run.flush(timeout_seconds=600)
print(time.perf_counter() - started, run.id, flush=True)
run.complete()
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(
    database: str, artifacts: str, workers: int
) -> tuple[subprocess.Popen[bytes], str, float]:
    port = _free_port()
    script = str(Path(sys.executable).with_name("runhistory"))
    command = [
        script,
        "server",
        "--port",
        str(port),
        "--backend-store-uri",
        database,
        "--artifact-location",
        artifacts,
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return process, url, time.perf_counter() - started
        except httpx.TransportError:
            if process.poll() is not None:
                raise SystemExit("the server did not start") from None
            time.sleep(0.01)


def _clients(url: str, count: int, points: int, home: str) -> tuple[float, list[str]]:
    env = {**os.environ, "RUNHISTORY_HOME": home, "RUNHISTORY_QUIET": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CLIENT, url, str(points)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(count)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    run_ids = []
    for proc in procs:
        assert proc.stdout is not None
        run_ids.append(proc.stdout.readline().split()[1])
        proc.wait()
    return time.perf_counter() - started, run_ids


def _series_read(url: str, run_ids: list[str]) -> float:
    body = {"run_ids": run_ids, "names": ["loss"], "max_points": 1000}
    httpx.post(f"{url}/api/v1/metrics/series", json=body, timeout=120)  # warm up
    started = time.perf_counter()
    response = httpx.post(f"{url}/api/v1/metrics/series", json=body, timeout=120)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def _populate(database: str, runs: int, points: int) -> list[str]:
    """Write ``runs`` runs of ``points`` points straight into the store (fast setup)."""
    from runhistory.store.sql import open_store
    from runhistory.tracking.entities import VTYPE_FLOAT, MetricWrite, RunCreate, WriteBatch

    store = open_store(database)
    experiment = store.create_experiment("series-bench")
    run_ids = []
    now = time.time()
    for index in range(runs):
        run_id = f"series_{index}_{uuid.uuid4().hex[:6]}"
        create = RunCreate(run_id, experiment.experiment_id, "Running", now)
        store.write_changes(WriteBatch(creates=[create]))
        for start in range(0, points, 50_000):
            steps = list(range(start, min(start + 50_000, points)))
            columns = (
                steps,
                [VTYPE_FLOAT] * len(steps),
                [float(s % 977) for s in steps],
                [None] * len(steps),
                [now] * len(steps),
            )
            write = MetricWrite.from_columns("loss", "scalar", columns)
            store.write_changes(WriteBatch(metrics={run_id: [write]}))
        run_ids.append(run_id)
    store.close()
    return run_ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000, help="points per client")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client processes")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--quick", action="store_true", help="20,000 points per client")
    parser.add_argument(
        "--series-runs", type=int, default=100, help="runs for the chart read (0: skip it)"
    )
    parser.add_argument("--series-points", type=int, default=100_000, help="points per such run")
    args = parser.parse_args()
    points = 20_000 if args.quick else args.points
    name = f"rh_bench_{uuid.uuid4().hex[:10]}"
    folder = tempfile.mkdtemp(prefix="rh-bench-")
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database = f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    server, url, cold = _start_server(database, os.path.join(folder, "artifacts"), args.workers)
    try:
        one, _ = _clients(url, 1, points, os.path.join(folder, "home"))
        many, run_ids = _clients(url, args.clients, points, os.path.join(folder, "home"))
        series = _series_read(url, run_ids)
        big = []
        if args.series_runs:
            big = _populate(database, args.series_runs, args.series_points)
            big_series = _series_read(url, big)
    finally:
        server.terminate()
        server.wait()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"server: {args.workers} worker(s) on PostgreSQL; cold start (new database, "
        f"migrations included) {cold:.2f} s"
    )
    print(f"{'clients':>8} {'points':>12} {'seconds':>9} {'points/s':>12}")
    print(f"{1:>8} {points:>12,} {one:>9.2f} {points / one:>12,.0f}")
    total = points * args.clients
    print(f"{args.clients:>8} {total:>12,} {many:>9.2f} {total / many:>12,.0f}")
    print(
        f"series read: {len(run_ids)} runs x {points:,} points -> <=1000 points each in "
        f"{series * 1000:.0f} ms"
    )
    if big:
        print(
            f"series read: {len(big)} runs x {args.series_points:,} points -> <=1000 points "
            f"each in {big_series * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
