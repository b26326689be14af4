"""B4's kept-alive GET, source trees alternated, with the server's CPU time per request.

Starts ``runhistory server`` from each source tree in turn (``PYTHONPATH=<tree>/src``, one
process unless ``--workers``, on SQLite or a fresh PostgreSQL database), creates one run with
that tree's SDK, then reads it ``--requests`` times over one kept-alive ``http.client``
connection (a first request opens it, as in B4). Each repetition prints one JSON line: p50,
p99 and p99.9 in ms, the server's CPU ms per request (``/proc``, every process of its group)
and the client's; the sides alternate A B A B …::

    python benchmarks/keepalive_get.py --tree base=../runhistory-base --tree new=. --pairs 3
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

from rhbench.b4_keepalive import latencies
from rhbench.harness import group_pids
from rhbench.pg import fresh_database
from rhbench.servers import free_port, wait_healthy, wait_settled

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
TICKS = os.sysconf("SC_CLK_TCK")
SERVER = "import sys; from runhistory.cli.main import main; sys.exit(main())"
NEW_RUN = (
    "from runhistory import Experiment, Workspace; "
    "run = Experiment(Workspace(tracking_uri={url!r}), 'bench-b4-latency')"
    ".start_logging(outputs=False); run.complete(); print(run.id)"
)


def group_cpu(pgid: int) -> float:
    """User + system CPU seconds of the live processes of a process group."""
    total = 0.0
    for pid in group_pids(pgid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def percentile(ordered: list[float], fraction: float) -> float:
    """B4's percentile: the value at ``int(n * fraction)`` of the sorted list."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def one(name: str, tree: Path, args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    """One repetition against the server of ``tree``."""
    folder = Path(tempfile.mkdtemp(prefix="keepalive-get-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNHISTORY_")}
    env.update(PYTHONPATH=str(tree / "src"), RUNHISTORY_HOME=str(folder / "home"),
               RUNHISTORY_QUIET="1", PYTHONDONTWRITEBYTECODE="1")  # fmt: skip
    url = database_url or f"sqlite:///{folder / 'runhistory.db'}"
    port = free_port()
    argv = [sys.executable, "-c", SERVER, "server", "--backend-store-uri", url,
            "--artifact-location", str(folder / "artifacts"), "--log-level", args.log_level,
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers)]  # fmt: skip
    log_path = folder / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(argv, cwd=folder, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base + "/healthz", process, time.perf_counter(), log_path, 60.0)
        wait_settled(process.pid)
        run_id = subprocess.run(
            [sys.executable, "-c", NEW_RUN.format(url=base)], env=env, cwd=folder,
            check=True, capture_output=True, text=True,
        ).stdout.split()[-1]  # fmt: skip
        time.sleep(0.5)
        server_before, client_before = group_cpu(process.pid), time.process_time()
        started = time.perf_counter()
        times = latencies(f"http://127.0.0.1:{port}", f"/api/v1/runs/{run_id}", args.requests)
        wall = time.perf_counter() - started
        server = group_cpu(process.pid) - server_before
        client = time.process_time() - client_before
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            if group_pids(process.pid):
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)
    ordered = sorted(times)
    n = len(ordered)
    return {
        "tree": name,
        "p50_ms": round(percentile(ordered, 0.5), 3),
        "p90_ms": round(percentile(ordered, 0.9), 3),
        "p99_ms": round(percentile(ordered, 0.99), 3),
        "p999_ms": round(percentile(ordered, 0.999), 3),
        "max_ms": round(ordered[-1], 3),
        "mean_ms": round(sum(ordered) / n, 3),
        "server_cpu_ms_per_request": round(server * 1e3 / n, 3),
        "client_cpu_ms_per_request": round(client * 1e3 / n, 3),
        "wall_s": round(wall, 2),
        "load": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tree", action="append", required=True, help="NAME=PATH of a source tree (its src/)"
    )
    parser.add_argument("--pairs", type=int, default=3, help="rounds over all the trees")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="warning")
    parser.add_argument(
        "--postgres", nargs="?", const=DEFAULT_POSTGRES, default=None,
        help="a fresh PostgreSQL database a repetition (default: SQLite)",
    )  # fmt: skip
    args = parser.parse_args()
    trees = [(t.split("=", 1)[0], Path(t.split("=", 1)[1]).resolve()) for t in args.tree]
    for _ in range(args.pairs):
        for name, tree in trees:
            if args.postgres:
                with fresh_database(args.postgres) as database_url:
                    result = one(name, tree, args, database_url)
            else:
                result = one(name, tree, args, "")
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
