"""B10 MLflow API: the same MLflow client against ``runhistory server`` and ``mlflow server``.

Both sides run the MLflow venv's own client code; only the server differs (each on PostgreSQL,
two workers). Measured:

- ``mlflow.log_metric`` in a loop (one point per request, synchronous), on a fresh database
  and server every repetition;
- ``MlflowClient.search_runs`` over an experiment of many runs (10,000; quick: 300) with a
  metric and a param filter and a metric order, every page read (1,000 runs a page). Each
  side's experiment is made once, through the MLflow client and that side's server (four
  requests at a time), and every repetition then starts a fresh server on it and reads all
  its pages.

Filling the searched experiment through ``mlflow server`` takes about 20 minutes at full size.
With ``RHBENCH_B10_REUSE=1`` the searched databases are named ``bench_b10_<side>_<runs>``
(``bench_b10_runhistory_10000``, ``bench_b10_mlflow_10000``; quick: ``…_300``) and kept
after the run with their servers' folders (``<tmp>/rhbench-b10/<name>``: a runhistory
server's secret key must be the one its database was first served with): a later run with
the variable set finds them filled and only measures (a database whose filling did not
finish, or whose folder is gone, is dropped and filled again). That also compares two
builds of runhistory on the same data: run ``benchmarks/run.py --only B10`` with each build's
interpreter. A kept database is never dropped by the benchmark (``DROP DATABASE`` it when done);
one made by an older runhistory schema needs ``runhistory db upgrade`` first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rhbench.harness import ML, RH, Harness, Result, Row
from rhbench.pg import (
    create_database,
    database_exists,
    drop_database,
    fresh_database,
    with_database,
)
from rhbench.servers import running

STORAGE = "PostgreSQL, HTTP"
FILTER = "metrics.acc > 0.25 AND params.kind = 'b10'"
SEARCHED = "b10-search"  # the searched experiment
FILLED_TAG = "rhbench.filled"  # set on it, to the number of runs, once all are made
REUSE = "RHBENCH_B10_REUSE"
KEPT = Path(tempfile.gettempdir()) / "rhbench-b10"  # the kept databases' server folders
FILL_THREADS = 4


def sizes(quick: bool) -> dict[str, int]:
    """Points of the logging loop and runs of the searched experiment."""
    return {"points": 200, "runs": 300} if quick else {"points": 2000, "runs": 10_000}


def reuse() -> bool:
    """Whether the searched databases are named, kept and reused (``RHBENCH_B10_REUSE=1``)."""
    return os.environ.get(REUSE, "").strip().lower() in ("1", "true", "yes")


# ---- workers (run with the MLflow venv's interpreter, against either server) ------------
def log_loop(url: str, points: int) -> Result:
    """``mlflow.log_metric`` one point per call; returns points per second."""
    import mlflow

    mlflow.set_tracking_uri(url)
    mlflow.set_experiment("b10-log")
    with mlflow.start_run():
        started = time.perf_counter()
        for step in range(points):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        elapsed = time.perf_counter() - started
    return {"log_per_s": points / elapsed}


def populate(url: str, runs: int) -> Result:
    """The searched experiment: ``runs`` finished runs, each with a param and a metric, made a
    few requests at a time; tagged :data:`FILLED_TAG` once all are made."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(url)
    experiment_id = client.create_experiment(SEARCHED)

    def one(index: int) -> None:
        run_id = client.create_run(experiment_id).info.run_id
        acc = (index * 7919 % 1000) / 1000
        client.log_batch(run_id, metrics=[Metric("acc", acc, 0, 0)], params=[Param("kind", "b10")])
        client.set_terminated(run_id)

    with ThreadPoolExecutor(FILL_THREADS) as pool:
        list(pool.map(one, range(runs)))
    client.set_experiment_tag(experiment_id, FILLED_TAG, str(runs))
    return {"experiment_id": experiment_id}


def filled(url: str, runs: int) -> Result:
    """The searched experiment's id if the server holds it with all ``runs`` made, else None."""
    from mlflow.tracking import MlflowClient

    experiment = MlflowClient(url).get_experiment_by_name(SEARCHED)
    if experiment is None or experiment.tags.get(FILLED_TAG) != str(runs):
        return {"experiment_id": None}
    return {"experiment_id": experiment.experiment_id}


def search(url: str, experiment_id: str, expected: int) -> Result:
    """Every page of a filtered, ordered ``search_runs``; returns seconds and runs found."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(url)
    started = time.perf_counter()
    found, token = 0, None
    while True:
        page = client.search_runs([experiment_id], FILTER, order_by=["metrics.acc DESC"],
                                  max_results=1000, page_token=token)  # fmt: skip
        found += len(page)
        token = page.token
        if not token:
            break
    elapsed = time.perf_counter() - started
    if found != expected:
        raise RuntimeError(f"search_runs found {found} runs, expected {expected}")
    return {"search_s": elapsed, "found": found}


def _expected(runs: int) -> int:
    return sum(1 for i in range(runs) if (i * 7919 % 1000) / 1000 > 0.25)


# ---- the sessions of one side -----------------------------------------------------------
def log_session(h: Harness, side: str) -> Result:
    """A fresh database and server for ``side``; the MLflow client's logging loop on it."""
    folder = h.scratch(f"b10-{side}")
    points = sizes(h.settings.quick)["points"]
    with fresh_database(h.settings.postgres_url) as db, running(h, side, db, folder) as server:
        return h.call(ML, "b10_mlflow_api", "log_loop", {"url": server.url, "points": points},
                      folder)  # fmt: skip


def search_database(h: Harness, side: str, runs: int, stack: ExitStack) -> tuple[str, str, Path]:
    """The database of ``side`` holding the searched experiment, the experiment's id and the
    folder of its servers (their home: every runhistory server of a database has its key).

    A fresh database (dropped when ``stack`` closes), filled; or with :func:`reuse` the kept
    one of this side and size, filled first if it is new, its folder is gone or its filling
    did not finish.
    """
    admin = h.settings.postgres_url
    if not reuse():
        folder = h.scratch(f"b10-search-{side}")
        database = stack.enter_context(fresh_database(admin))
        return database, _fill(h, side, database, runs, folder), folder
    name = f"bench_b10_{side}_{runs}"
    database, folder = with_database(admin, name), KEPT / name
    if database_exists(admin, name):
        if folder.is_dir():
            with running(h, side, database, folder) as server:
                found = h.call(ML, "b10_mlflow_api", "filled",
                               {"url": server.url, "runs": runs}, folder)  # fmt: skip
            if found["experiment_id"] is not None:
                h.notes.append(f"B10 search_runs: {side} reused the filled database {name}.")
                return database, str(found["experiment_id"]), folder
        drop_database(admin, name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    create_database(admin, name)
    return database, _fill(h, side, database, runs, folder), folder


def _fill(h: Harness, side: str, database: str, runs: int, folder: Path) -> str:
    started = time.perf_counter()
    with running(h, side, database, folder) as server:
        made = h.call(ML, "b10_mlflow_api", "populate", {"url": server.url, "runs": runs},
                      folder)  # fmt: skip
    seconds = time.perf_counter() - started
    h.notes.append(f"B10 search_runs: {side}'s {runs:,} runs made in {seconds:.0f} s.")
    return str(made["experiment_id"])


def search_sessions(h: Harness) -> dict[str, list[Result] | str]:
    """Both sides' searches, alternating, each on its filled database and a fresh server."""
    runs = sizes(h.settings.quick)["runs"]
    with ExitStack() as stack:
        databases: dict[str, tuple[str, str, Path]] = {}

        def measure(side: str) -> Callable[[int], Result]:
            def once(rep: int) -> Result:
                if side not in databases:
                    databases[side] = search_database(h, side, runs, stack)
                database, experiment_id, folder = databases[side]
                params = {"experiment_id": experiment_id, "expected": _expected(runs)}
                with running(h, side, database, folder) as server:
                    return h.call(ML, "b10_mlflow_api", "search", {"url": server.url, **params},
                                  folder)  # fmt: skip

            return once

        return h.alternate("B10 search_runs", {RH: measure(RH), ML: measure(ML)})


def run(h: Harness) -> None:
    """Both sides, alternating; adds the B10 rows."""

    def logging(side: str) -> Callable[[int], Result]:
        return lambda rep: log_session(h, side)

    logs = h.alternate("B10 MLflow API", {RH: logging(RH), ML: logging(ML)})
    searches = search_sessions(h)
    size = sizes(h.settings.quick)
    rows: list[tuple[str, str, str, bool, Any, dict[str, list[Result] | str]]] = [
        ("mlflow.log_metric loop, 1 point/request", "log_per_s", "points/s", True,
         f"{size['points']:,}", logs),
        (f"search_runs, filter + order, all pages of {size['runs']:,} runs", "search_s", "s",
         False, f"{_expected(size['runs']):,} found", searches),
    ]  # fmt: skip
    for name, key, unit, higher, shown, results in rows:
        row = Row("B10", name, unit, higher, shown, shown, STORAGE)
        h.fill(row, RH, results[RH], key)
        h.fill(row, ML, results[ML], key)
    h.notes.append(
        "B10: the same MLflow client (MLflow's venv) against runhistory server's MLflow API "
        "and against mlflow server, each on PostgreSQL with two workers; search_runs reads one "
        "experiment made once per side, a fresh server each repetition "
        f"({REUSE}=1 keeps and reuses the filled databases)."
    )
