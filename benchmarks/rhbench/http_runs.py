"""B3 and B7 over HTTP: creating runs through a server, and listing a big experiment's runs.

B3 over HTTP: ``runhistory server`` (1 worker) and ``mlflow server`` (2: see
:data:`rhbench.servers.B3_HTTP_WORKERS`) on a fresh PostgreSQL database; 8 client processes
(quick: 2) start together (a file barrier) and each creates runs as B3 does (10 properties, 5
tags, 3 metrics, ``complete()`` or every tenth ``fail()``). runhistory writes runs behind: each
run's changes reach the server in batches (``POST /changes/batches``), and ``complete()``
returns once the server stored them. The rate is all runs over the time until the last client
finished; the runs are counted afterwards (a missing run is an error). MLflow: its fluent API,
fewer runs.

B7 over HTTP: B7's corpus (see :mod:`rhbench.b7_listings`) made through the store's batch
path straight into PostgreSQL and its statistics refreshed (``ANALYZE``: right after a bulk
load PostgreSQL's planner still believes the table is small until autovacuum analyzes it, and
may sort the whole experiment for a first page), then a ``runhistory server`` on it and, in a
fresh client process, the first pages of ``get_runs()``, ``Run.list(status="Failed")`` and a
property filter, ``runhistory run list --last 10`` as a whole process, and the studio's first runs
table page (the request its runs page makes first: 100 newest runs without definitions,
``Accept-Encoding: gzip``): its time and the bytes on the wire.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rhbench.b3_runs import failed, properties, tags
from rhbench.b7_listings import BATCH, NO_PEER, REPEAT, _run, time_listings
from rhbench.common import median, time_calls, wait_for_start
from rhbench.harness import ML, RH, Harness, Result, Row
from rhbench.pg import fresh_database
from rhbench.report import TIMES
from rhbench.servers import B3_HTTP_WORKERS, running

B3_EXPERIMENT = "bench-b3-http"
B7_EXPERIMENT = "bench-b7-http"
STORAGE = "server+PostgreSQL / server+PostgreSQL"


# ---- B3 over HTTP ------------------------------------------------------------------------
def rh_client(url: str, runs: int, barrier: str | None, index: int) -> Result:
    """runhistory: create ``runs`` runs through the server (one warm-up run before)."""
    from runhistory import Experiment, Workspace

    experiment = Experiment(Workspace(tracking_uri=url), B3_EXPERIMENT)
    experiment.start_logging().complete()  # connection, server info, imports
    begin = wait_for_start(barrier, index) if barrier else time.time()
    cpu = time.process_time()
    for n in range(runs):
        i = index * runs + n
        run = experiment.start_logging()
        run.add_properties(properties(i))
        run.set_tags(tags(i))
        for j in range(3):
            run.log(f"metric{j}", i * 0.1 + j)
        run.fail() if failed(i) else run.complete()
    # the loop's own CPU (every thread of the process), without imports, warm-up and exit
    cpu = time.process_time() - cpu
    return {"begin": begin, "end": time.time(), "runs": runs, "cpu": cpu}


def rh_count(url: str) -> Result:
    """How many runs the B3 experiment holds on the server, and how many failed."""
    from runhistory import Experiment, Workspace

    experiment = Experiment(Workspace(tracking_uri=url), B3_EXPERIMENT)
    backend = experiment.workspace._connection.backend
    total = backend.count_matching_runs(experiment_id=experiment.id)
    failures = backend.count_matching_runs(experiment_id=experiment.id, status="Failed")
    return {"runs": total, "failed": failures}


def ml_client(url: str, runs: int, barrier: str | None, index: int) -> Result:
    """MLflow: create ``runs`` runs through its server with the fluent API."""
    import mlflow

    mlflow.set_tracking_uri(url)
    # The clients race to create the experiment: set_experiment takes the one another client
    # made first (RESOURCE_ALREADY_EXISTS). Any other failure is an error, not a retry loop
    # around MLflow's own retries (5 x its 7 retries with backoff: 20 minutes of sleeping).
    mlflow.set_experiment(B3_EXPERIMENT)
    mlflow.start_run()  # warm-up, as runhistory's clients: imports, connection
    mlflow.end_run()
    begin = wait_for_start(barrier, index) if barrier else time.time()
    for n in range(runs):
        i = index * runs + n
        mlflow.start_run()
        mlflow.log_params(properties(i))
        mlflow.set_tags(tags(i))
        mlflow.log_metrics({f"metric{j}": i * 0.1 + j for j in range(3)})
        mlflow.end_run(status="FAILED" if failed(i) else "FINISHED")
    return {"begin": begin, "end": time.time(), "runs": runs}


def b3_sizes(quick: bool) -> dict[str, int]:
    """Runs per client for each side, and how many concurrent clients."""
    return {RH: 20, ML: 5, "clients": 2} if quick else {RH: 400, ML: 40, "clients": 8}


# Time limits of one B3-over-HTTP session: database, server start, clients' imports (under
# load a minute or more), plus an allowance per run of about ten times what a run takes
# on a 2-core machine at load 8 (MLflow ~0.1 s, runhistory ~5 ms a run over all clients).
SESSION_START_S = 240.0
PER_RUN_S = {RH: 0.05, ML: 1.0}


def b3_limits(quick: bool) -> dict[str, float]:
    """Seconds one session of each side may take before it counts as hung."""
    size = b3_sizes(quick)
    return {side: SESSION_START_S + size["clients"] * size[side] * PER_RUN_S[side]
            for side in (RH, ML)}  # fmt: skip


def _b3_session(h: Harness, side: str) -> Result:
    size = b3_sizes(h.settings.quick)
    count, runs = size["clients"], size[side]
    folder = h.scratch(f"b3http-{side}")
    workers = B3_HTTP_WORKERS[side]
    with (
        fresh_database(h.settings.postgres_url) as db,
        running(h, side, db, folder, workers) as server,
    ):
        barrier = h.scratch(f"b3http-{side}-barrier")
        function = "rh_client" if side == RH else "ml_client"
        processes = [
            h.spawn(side, "http_runs", function,
                    {"url": server.url, "runs": runs, "barrier": str(barrier), "index": i},
                    h.scratch(f"b3http-{side}-{i}"))
            for i in range(count)
        ]  # fmt: skip
        h.start_together(barrier, processes)
        results = h.collect_all(processes)
        rate = sum(r["runs"] for r in results) / (
            max(r["end"] for r in results) - min(r["begin"] for r in results)
        )
        if side == RH:
            stored = h.call(RH, "http_runs", "rh_count", {"url": server.url})
            want = count * (runs + 1)  # each client's warm-up run too
            if stored["runs"] != want:
                raise RuntimeError(f"{stored['runs']} runs stored, {want} created")
    return {"runs_per_s": rate}


def _b3(h: Harness) -> None:
    results = h.alternate(
        "B3 HTTP create",
        {RH: lambda rep: _b3_session(h, RH), ML: lambda rep: _b3_session(h, ML)},
        timeout=b3_limits(h.settings.quick),
    )
    size = b3_sizes(h.settings.quick)
    count = size["clients"]
    row = Row("B3", f"HTTP, {count} client processes: create runs", "runs/s", True,
              f"{count} {TIMES} {size[RH]:,}", f"{count} {TIMES} {size[ML]:,} (extrap.)",
              STORAGE)  # fmt: skip
    h.fill(row, RH, results[RH], "runs_per_s")
    h.fill(row, ML, results[ML], "runs_per_s")
    row.aim_status = "n/a: not measured over HTTP"


# ---- B7 over HTTP ------------------------------------------------------------------------
def make_runs(database_url: str, runs: int) -> Result:
    """B7's corpus in PostgreSQL through the store's batch path (the schema made first)."""
    from runhistory.store.sql import SqlTrackingStore
    from runhistory.tracking.entities import WriteBatch

    store = SqlTrackingStore(database_url)
    experiment_id = store.create_experiment(B7_EXPERIMENT).experiment_id
    started = time.perf_counter()
    base = time.time() - runs * 0.001
    for first in range(0, runs, BATCH):
        creates = [_run(experiment_id, base, i) for i in range(first, min(runs, first + BATCH))]
        store.write_changes(WriteBatch(creates=creates))
    seconds = time.perf_counter() - started
    store.close()
    _analyze(database_url)  # what autovacuum does a little later after a bulk load
    return {"seconds": seconds, "runs_per_s": runs / seconds}


def _analyze(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("ANALYZE")


def listings(url: str) -> Result:
    """Median latency of the first pages over HTTP, and the studio's first table page."""
    import httpx

    from runhistory import Experiment, Workspace

    experiment = Experiment(Workspace(tracking_uri=url), B7_EXPERIMENT)
    result: Result = time_listings(experiment)
    studio = httpx.Client(base_url=f"{url}/api/v1", headers={"Accept-Encoding": "gzip"})
    params = {"experiment_id": experiment.id, "include_children": "true",
              "with_definition": "false", "limit": 100}  # fmt: skip
    sizes: list[int] = []

    def page() -> None:
        with studio.stream("GET", "/runs", params=params) as response:
            response.raise_for_status()
            for _ in response.iter_raw():
                pass
            sizes.append(response.num_bytes_downloaded)
            result["studio_encoding"] = response.headers.get("content-encoding", "identity")

    page()
    result["studio_ms"] = median(time_calls(page, REPEAT)) * 1e3
    result["studio_kb"] = median(sizes) / 1000
    return result


def cli(url: str) -> Result:
    """``runhistory run list --last 10`` against the server, as a whole process."""
    exe = Path(sys.executable).with_name("runhistory")
    args = [str(exe), "run", "list", "-e", B7_EXPERIMENT, "-o", "tsv", "--last", "10"]
    env = {**os.environ, "RUNHISTORY_TRACKING_URI": url}
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"run list failed: {done.stderr.decode()[-500:]}")
    return {"seconds": seconds}


def b7_size(quick: bool) -> int:
    """Runs in the B7 experiment (``RHBENCH_B7_HTTP_RUNS`` overrides the full size)."""
    return 5_000 if quick else int(os.environ.get("RHBENCH_B7_HTTP_RUNS", "1000000"))


def _b7(h: Harness) -> None:
    runs = b7_size(h.settings.quick)
    folder = h.scratch("b7http")
    with fresh_database(h.settings.postgres_url) as db:
        made = h.call(RH, "http_runs", "make_runs", {"database_url": db, "runs": runs}, folder)
        h.notes.append(
            f"B7 over HTTP: {runs:,} runs made through the store's batch path into PostgreSQL "
            f"in {made['seconds']:.1f} s ({made['runs_per_s']:,.0f} runs/s)"
        )
        with running(h, RH, db, folder) as server:
            params = {"url": server.url}
            pages = h.alternate("B7 HTTP list", {RH: _worker(h, "listings", params, folder)})
            last = h.alternate("B7 HTTP cli", {RH: _worker(h, "cli", params, folder)})
    size = f"{runs:,} runs"
    storage = "server+PostgreSQL"
    for measure, key, unit, results in (
        ("HTTP get_runs() first 50", "first_ms", "ms", pages),
        ("HTTP Run.list(status=Failed) first 50", "status_ms", "ms", pages),
        ("HTTP get_runs(properties={shard: s7}) first 50", "property_ms", "ms", pages),
        ("HTTP runhistory run list --last 10 (process)", "seconds", "s", last),
        ("studio first runs page (100 runs): request", "studio_ms", "ms", pages),
        ("studio first runs page: bytes on the wire", "studio_kb", "kB", pages),
    ):
        row = Row("B7", measure, unit, False, size, "", storage)
        h.fill(row, RH, results[RH], key)
        row.ml_status = row.aim_status = NO_PEER
    if isinstance(pages[RH], list) and pages[RH]:
        encoding = pages[RH][0].get("studio_encoding")
        h.notes.append(f"B7 over HTTP: the studio's first page came with encoding {encoding}")


def _worker(h: Harness, function: str, params: Result, folder: Path) -> Any:
    return lambda rep: h.call(RH, "http_runs", function, params, folder)


def run(h: Harness) -> None:
    """B3 over HTTP (both sides) and B7 over HTTP (runhistory only)."""
    if "B3" in h.settings.only:
        _b3(h)
    if "B7" in h.settings.only:
        _b7(h)
