"""B7: listings over many runs in one experiment (1,000,000 at full size); B8: one run with
10,000 metric names.

B7's corpus is made through the store's batch path (``TrackingStore.write_changes``, 5,000 runs
per batch; how long it took is a note under the table): every run has a ``shard`` property (100
values), a ``group`` tag (10 values) and a ``seed`` property; every tenth run failed. Each
listing is timed in a fresh process (median of 5 calls after one warm-up), embedded SQLite:

- ``get_runs()`` first page: the 50 newest runs of the generator;
- ``Run.list(status="Failed")``: its 50 newest;
- a property-equals filter (``get_runs(properties={"shard": "s7"})``): its 50 newest;
- ``runhistory run list -e … --last 10`` as a whole process (interpreter start included), as
  a table (the default output) and as tab-separated values, read by the CLI's lean SQLite
  reader; and, for comparison, with that reader turned off (through the SDK and the store);
- ``runhistory run list -e … --all -o tsv`` as a whole process: its time and peak memory;
- ``runhistory run list -e … --last 10`` as a whole process against ``runhistory server``
  serving the same workspace (loopback, one worker), read by the CLI's lean HTTP path, and with
  it turned off (through the SDK and the remote backend): median of 5 after one warm-up.

B8: one run with 10,000 metrics x 100 points (made through the batch path): listing the names
(``get_metric_infos``) and the first chart page (20 metrics, ``get_metric_series``).
MLflow has no equivalent measured here (its column says so).
"""

from __future__ import annotations

import itertools
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rhbench.common import median, time_calls
from rhbench.harness import RH, Harness, Row

EXPERIMENT = "bench-b7"
BATCH = 5000
REPEAT = 5
NO_PEER = "n/a: not measured"


def _store(folder: str) -> Any:
    from runhistory.store.sql import SqlTrackingStore

    os.makedirs(folder, exist_ok=True)
    return SqlTrackingStore(f"sqlite:///{os.path.join(folder, 'runhistory.db')}")


def make_runs(runs: int) -> dict[str, Any]:
    """The corpus: ``runs`` runs in one experiment, written in batches (workspace ``ws``)."""
    from runhistory import Experiment, Workspace
    from runhistory.client.backend import close_all
    from runhistory.tracking.entities import WriteBatch

    folder = os.path.abspath("ws")
    experiment_id = Experiment(Workspace(path=folder), EXPERIMENT).id
    close_all()
    store = _store(folder)
    started = time.perf_counter()
    base = time.time() - runs * 0.001
    for first in range(0, runs, BATCH):
        creates = [_run(experiment_id, base, i) for i in range(first, min(runs, first + BATCH))]
        store.write_changes(WriteBatch(creates=creates))
    seconds = time.perf_counter() - started
    store.close()
    return {"seconds": seconds, "runs_per_s": runs / seconds}


def _run(experiment_id: str, base: float, i: int) -> Any:
    from runhistory.tracking.entities import RunCreate

    created = base + i * 0.001
    return RunCreate(
        f"b7_{i:08d}", experiment_id, "Failed" if i % 10 == 9 else "Completed", created,
        start_time=created, end_time=created + 1, tags={"group": f"g{i % 10}"},
        properties={"shard": f"s{i % 100}", "seed": str(i)},
    )  # fmt: skip


def first_page(listing: Any) -> list[Any]:
    """The first 50 runs of a listing (RuntimeError if it holds fewer)."""
    found = list(itertools.islice(listing, 50))
    if len(found) != 50:
        raise RuntimeError(f"a first page held {len(found)} runs, not 50")
    return found


def time_listings(experiment: Any, **more: Callable[[], Any]) -> dict[str, Any]:
    """Median milliseconds of the first pages of the three listings (and of the calls
    ``more``), each after one warm-up call: ``first_ms``, ``status_ms``, ``property_ms``."""
    from runhistory import Run

    calls = {
        "first_ms": lambda: first_page(experiment.get_runs()),
        "status_ms": lambda: first_page(Run.list(experiment, status="Failed")),
        "property_ms": lambda: first_page(experiment.get_runs(properties={"shard": "s7"})),
        **more,
    }
    result: dict[str, Any] = {}
    for key, call in calls.items():
        call()  # warm-up: connection, statement caches
        result[key] = median(time_calls(call, REPEAT)) * 1e3
    return result


def listings(runs: int) -> dict[str, Any]:
    """Median latency of the first pages of the three listings (fresh process)."""
    from runhistory import Experiment, Run, Workspace

    experiment = Experiment(Workspace(path=os.path.abspath("ws")), EXPERIMENT)
    backend = experiment.workspace._connection.backend
    result = time_listings(
        experiment, count_ms=lambda: backend.count_matching_runs(experiment_id=experiment.id)
    )
    if first_page(Run.list(experiment, status="Failed"))[0].get_status() != "Failed":
        raise RuntimeError("Run.list(status='Failed') listed another status")
    return result


def cli(last: int | None, output: str = "tsv", lean: bool = True) -> dict[str, Any]:
    """``runhistory run list`` as a whole process: its seconds and peak memory.

    ``lean=False`` turns the CLI's lean SQLite reader off (the listing then goes through the
    SDK and the SQL store, as any workspace but an embedded SQLite one does).
    """
    exe = Path(sys.executable).with_name("runhistory")
    args = [str(exe), "run", "list", "-e", EXPERIMENT, "-o", output]
    args += ["--last", str(last)] if last is not None else ["--all"]
    env = {
        **os.environ, "RUNHISTORY_TRACKING_URI": os.path.abspath("ws"),
        "RUNHISTORY_CLI_LEAN_READER": "1" if lean else "0",
    }  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"run list failed: {done.stderr.decode()[-500:]}")
    lines = done.stdout.count(b"\n")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "lines": lines, "peak_mib": peak}


def cli_http(last: int, output: str = "table", lean: bool = True) -> dict[str, Any]:
    """``runhistory run list --last N`` as a whole process against a server of the corpus:
    the median seconds of REPEAT calls after a warm-up (the server is started for them)."""
    import socket
    import urllib.request

    exe = Path(sys.executable).with_name("runhistory")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(exe), "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", os.path.abspath("ws"), "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "RUNHISTORY_QUIET": "1"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        args = [str(exe), "run", "list", "-e", EXPERIMENT, "-o", output, "--last", str(last)]
        env = {
            **os.environ, "RUNHISTORY_TRACKING_URI": url,
            "RUNHISTORY_CLI_LEAN_READER": "1" if lean else "0",
        }  # fmt: skip

        def once() -> float:
            started = time.perf_counter()
            done = subprocess.run(args, env=env, capture_output=True, check=False)
            seconds = time.perf_counter() - started
            if done.returncode != 0:
                raise RuntimeError(f"run list failed: {done.stderr.decode()[-500:]}")
            return seconds

        once()
        return {"seconds": median([once() for _ in range(REPEAT)])}
    finally:
        server.terminate()
        server.wait(30)


def make_metrics(names: int, points: int) -> dict[str, Any]:
    """B8's run: ``names`` metrics of ``points`` points each, through the batch path."""
    from runhistory.tracking.entities import VTYPE_FLOAT, MetricWrite, RunCreate, WriteBatch

    store = _store(os.path.abspath("ws8"))
    experiment_id = store.create_experiment("bench-b8").experiment_id
    now = time.time()
    store.write_changes(WriteBatch(creates=[RunCreate("b8", experiment_id, "Running", now)]))
    started = time.perf_counter()
    for first in range(0, names, 500):
        writes = [
            MetricWrite(
                f"metric_{n:05d}",
                "scalar",
                [(p, VTYPE_FLOAT, p * 0.5 + n, None, now + p) for p in range(points)],
            )
            for n in range(first, min(names, first + 500))
        ]
        store.write_changes(WriteBatch(metrics={"b8": writes}))
    seconds = time.perf_counter() - started
    store.close()
    return {"seconds": seconds}


def metric_reads(names: int) -> dict[str, Any]:
    """Listing the metric names of B8's run, and its first chart page (20 metrics)."""
    from runhistory import Run, Workspace

    run = Run.get(Workspace(path=os.path.abspath("ws8")), "b8")
    backend = run.experiment.workspace._connection.backend

    def names_call() -> list[Any]:
        found = backend.get_metric_infos("b8")
        if len(found) != names:
            raise RuntimeError(f"{len(found)} metric names listed, not {names}")
        return list(found)

    listed = [i.name for i in names_call()]

    def chart() -> Any:
        return backend.get_metric_series(["b8"], listed[:20], max_points=500)

    def first_names() -> Any:
        page = backend.get_metric_infos_page("b8", page_size=1000)
        if len(page.items) != min(1000, names):
            raise RuntimeError(f"a first page held {len(page.items)} names")
        return page

    result = {}
    for key, call in (("names_ms", names_call), ("page_ms", first_names), ("chart_ms", chart)):
        call()
        result[key] = median(time_calls(call, REPEAT)) * 1e3
    return result


def _worker(h: Harness, function: str, params: dict[str, Any], folder: Path) -> Any:
    return lambda rep: h.call(RH, "b7_listings", function, params, folder)


def run(h: Harness) -> None:
    """B7 and B8 (runhistory only), embedded SQLite."""
    if "B7" in h.settings.only:
        _b7(h)
    if "B8" in h.settings.only:
        _b8(h)


def _b7(h: Harness) -> None:
    quick = h.settings.quick
    runs = 5_000 if quick else 1_000_000
    folder = h.scratch("b7")
    made = h.call(RH, "b7_listings", "make_runs", {"runs": runs}, folder)
    h.notes.append(
        f"B7: {runs:,} runs made through the store's batch path in {made['seconds']:.1f} s "
        f"({made['runs_per_s']:,.0f} runs/s)"
    )
    size = f"{runs:,} runs"
    storage = "SQLite file"
    results = h.alternate("B7 list", {RH: _worker(h, "listings", {"runs": runs}, folder)})
    for measure, key in (
        ("get_runs() first 50", "first_ms"),
        ("Run.list(status=Failed) first 50", "status_ms"),
        ("get_runs(properties={shard: s7}) first 50", "property_ms"),
        ("count of the experiment's runs", "count_ms"),
    ):
        row = Row("B7", measure, "ms", False, size, "", storage)
        h.fill(row, RH, results[RH], key)
        row.ml_status = NO_PEER
    for measure, params in (
        ("runhistory run list --last 10 (process)", {"last": 10, "output": "table"}),
        ("runhistory run list --last 10 -o tsv (process)", {"last": 10}),
        ("run list --last 10 without the lean reader (process)", {"last": 10, "lean": False}),
    ):
        last = h.alternate(f"B7 {measure}", {RH: _worker(h, "cli", params, folder)})
        row = Row("B7", measure, "s", False, size, "", storage)
        h.fill(row, RH, last[RH], "seconds")
        row.ml_status = NO_PEER
    for measure, params in (
        ("runhistory run list --last 10 against a server (process)", {"last": 10}),
        ("run list --last 10 against a server, lean path off (process)",
         {"last": 10, "lean": False}),
    ):  # fmt: skip
        last = h.alternate(f"B7 {measure}", {RH: _worker(h, "cli_http", params, folder)}, reps=1)
        row = Row("B7", measure, "s", False, size, "", "server over SQLite")
        h.fill(row, RH, last[RH], "seconds")
        row.ml_status = NO_PEER
    every = h.alternate("B7 cli all", {RH: _worker(h, "cli", {"last": None}, folder)}, reps=1)
    for measure, unit, key in (
        ("runhistory run list --all -o tsv (process)", "s", "seconds"),
        ("runhistory run list --all: peak memory", "MiB", "peak_mib"),
    ):
        row = Row("B7", measure, unit, False, size, "", storage)
        h.fill(row, RH, every[RH], key)
        row.ml_status = NO_PEER


def _b8(h: Harness) -> None:
    storage = "SQLite file"
    names, points = (500, 20) if h.settings.quick else (10_000, 100)
    folder8 = h.scratch("b8")
    made8 = h.call(RH, "b7_listings", "make_metrics", {"names": names, "points": points}, folder8)
    h.notes.append(
        f"B8: one run with {names:,} metrics x {points} points made in {made8['seconds']:.1f} s"
    )
    reads = h.alternate("B8 names", {RH: _worker(h, "metric_reads", {"names": names}, folder8)})
    size8 = f"{names:,} x {points}"
    for measure, key in (
        ("every metric name of one run (get_metric_infos)", "names_ms"),
        ("first page of 1,000 metric names", "page_ms"),
        ("first chart page (20 metrics, get_metric_series)", "chart_ms"),
    ):
        row = Row("B8", measure, "ms", False, size8, "", storage)
        h.fill(row, RH, reads[RH], key)
        row.ml_status = NO_PEER
