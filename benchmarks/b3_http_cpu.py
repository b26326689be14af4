"""B3 over HTTP with CPU time per run split into server, PostgreSQL and clients.

Starts a server (``runhistory server``: 1 worker, ``mlflow server``: 2, as the benchmark) on a
fresh PostgreSQL database, runs N client processes that create runs as B3 over HTTP does (see
:mod:`rhbench.http_runs`), and reads the CPU time each part used: the clients' from
``wait4``, the server's processes' and the database's backends' from ``/proc`` just before
the server stops. Shows where a run's CPU goes on a machine with few cores::

    python benchmarks/b3_http_cpu.py --side runhistory --clients 8 --runs 400
    python benchmarks/b3_http_cpu.py --side mlflow --clients 8 --runs 40
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from rhbench.harness import group_pids
from rhbench.pg import _admin, fresh_database
from rhbench.servers import free_port, wait_healthy, wait_settled

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
TICKS = os.sysconf("SC_CLK_TCK")
CLIENT = (
    "import json, sys; sys.path.insert(0, {bench!r}); from rhbench import http_runs; "
    "print(json.dumps(http_runs.{function}({url!r}, {runs}, {barrier!r}, {index})))"
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def backend_pids(admin_url: str, database: str) -> list[int]:
    """PostgreSQL backends connected to ``database`` now."""
    with _admin(admin_url) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))
        return [int(r[0]) for r in rows]


def server_command(
    side: str, database_url: str, folder: Path, port: int, workers: int
) -> list[str]:
    """The server's command line (``workers`` processes)."""
    bin_dir = Path(sys.executable).parent
    common = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    if side == "runhistory":
        return [str(bin_dir / "runhistory"), "server", "--backend-store-uri", database_url,
                "--artifact-location", str(folder / "artifacts"), "--log-level", "warning",
                *common]  # fmt: skip
    psycopg3 = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return [str(bin_dir / "mlflow"), "server", "--backend-store-uri", psycopg3,
            "--default-artifact-root", str(folder / "artifacts"), *common]  # fmt: skip


def measure(side: str, clients: int, runs: int, admin_url: str, workers: int) -> dict[str, Any]:
    """One session: the rate and the CPU seconds of each part per run."""
    folder = Path(tempfile.mkdtemp(prefix="b3cpu-"))
    try:
        with fresh_database(admin_url) as database_url:
            return _session(side, clients, runs, admin_url, database_url, folder, workers)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _session(
    side: str,
    clients: int,
    runs: int,
    admin_url: str,
    database_url: str,
    folder: Path,
    workers: int,
) -> dict[str, Any]:
    port = free_port()
    log = folder / "server.log"
    server = subprocess.Popen(server_command(side, database_url, folder, port, workers), cwd=folder,
                              stdout=log.open("w"), stderr=subprocess.STDOUT,
                              start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    health = "/healthz" if side == "runhistory" else "/health"
    try:
        wait_healthy(url + health, server, time.perf_counter(), log)
        wait_settled(server.pid)  # every worker started, not only the first
        barrier = folder / "barrier"
        barrier.mkdir()
        function = "rh_client" if side == "runhistory" else "ml_client"
        bench = str(Path(__file__).parent)
        home = folder / "home"
        env = {**os.environ, "RUNHISTORY_HOME": str(home), "MLFLOW_TRACKING_URI": url}
        procs = [
            subprocess.Popen([sys.executable, "-c", CLIENT.format(
                bench=bench, function=function, url=url, runs=runs, barrier=str(barrier),
                index=i)], stdout=subprocess.PIPE, env=env, cwd=folder)
            for i in range(clients)
        ]  # fmt: skip
        while len(list(barrier.glob("ready-*"))) < clients:
            time.sleep(0.01)
        clients_before = sum(cpu_seconds(p.pid) for p in procs)  # imports, warm-up run
        server_before = sum(cpu_seconds(p) for p in group_pids(server.pid))
        database = database_url.rsplit("/", 1)[1]
        db_before = {p: cpu_seconds(p) for p in backend_pids(admin_url, database)}
        load_before = os.getloadavg()
        (barrier / "go").touch()
        results, client_cpu = [], 0.0
        for proc in procs:
            out = proc.stdout.read() if proc.stdout else b""
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                raise RuntimeError(f"a client failed with status {proc.returncode}")
            results.append(json.loads(out.decode().strip().splitlines()[-1]))
            client_cpu += usage.ru_utime + usage.ru_stime
        client_cpu -= clients_before
        server_cpu = sum(cpu_seconds(p) for p in group_pids(server.pid)) - server_before
        db_cpu = sum(cpu_seconds(p) - db_before.get(p, 0.0)
                     for p in backend_pids(admin_url, database))  # fmt: skip
        total = sum(r["runs"] for r in results)
        seconds = max(r["end"] for r in results) - min(r["begin"] for r in results)
        stored = _count(database_url) if side == "runhistory" else None
        return {
            "side": side, "clients": clients, "runs": total, "seconds": round(seconds, 2),
            "runs_per_s": round(total / seconds, 1), "stored_runs": stored,
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
            # clients: from the start signal to their exit (imports and warm-up run left out)
            "cpu_ms_per_run": {"server": round(server_cpu / total * 1e3, 3),
                               "postgresql": round(db_cpu / total * 1e3, 3),
                               "clients": round(client_cpu / total * 1e3, 3),
                               # the clients' run loops alone (no exit, no start signal)
                               "client_loops": round(sum(r.get("cpu", 0.0) for r in results)
                                                     / total * 1e3, 3)},
        }  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def _count(database_url: str) -> int:
    with _admin(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM runs").fetchone()
        return int(row[0]) if row else 0


def main() -> None:
    """Parse the arguments, measure, print JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", choices=["runhistory", "mlflow"], default="runhistory")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=400, help="runs per client")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="server processes (default: as the benchmark, 1 runhistory, 2 MLflow)",
    )
    parser.add_argument("--postgres", default=os.environ.get("RHBENCH_POSTGRES", DEFAULT_POSTGRES))
    args = parser.parse_args()
    for _ in range(args.reps):
        print(
            json.dumps(
                measure(
                    args.side,
                    args.clients,
                    args.runs,
                    args.postgres,
                    args.workers or (1 if args.side == "runhistory" else 2),
                )
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
