"""B10 MLflow API: the same MLflow client against ``runhistory server`` and ``mlflow server``.

Both sides run the MLflow venv's own client code; only the server differs (each on a fresh
PostgreSQL database, two workers). Measured: ``mlflow.log_metric`` in a loop (one point per
request, synchronous), and ``MlflowClient.search_runs`` over an experiment of many runs with a
metric filter and a metric order, every page read (1,000 runs a page).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rhbench.harness import ML, RH, Harness, Result, Row
from rhbench.pg import fresh_database
from rhbench.servers import running

STORAGE = "PostgreSQL, HTTP"
FILTER = "metrics.acc > 0.25 AND params.kind = 'b10'"


def sizes(quick: bool) -> dict[str, int]:
    """Points of the logging loop and runs of the searched experiment."""
    return {"points": 200, "runs": 300} if quick else {"points": 2000, "runs": 10_000}


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
    """An experiment of ``runs`` finished runs, each with a param and a metric."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(url)
    experiment_id = client.create_experiment("b10-search")
    for index in range(runs):
        run_id = client.create_run(experiment_id).info.run_id
        acc = (index * 7919 % 1000) / 1000
        client.log_batch(run_id, metrics=[Metric("acc", acc, 0, 0)], params=[Param("kind", "b10")])
        client.set_terminated(run_id)
    return {"experiment_id": experiment_id}


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


# ---- the session of one side -----------------------------------------------------------
def session(h: Harness, side: str) -> Result:
    """A fresh database and server for ``side``; the MLflow client measures against it."""
    size = sizes(h.settings.quick)
    folder = h.scratch(f"b10-{side}")
    with fresh_database(h.settings.postgres_url) as db, running(h, side, db, folder) as server:
        result = h.call(ML, "b10_mlflow_api", "log_loop",
                        {"url": server.url, "points": size["points"]}, folder)  # fmt: skip
        made = h.call(ML, "b10_mlflow_api", "populate",
                      {"url": server.url, "runs": size["runs"]}, folder)  # fmt: skip
        params = {"url": server.url, "experiment_id": made["experiment_id"],
                  "expected": _expected(size["runs"])}  # fmt: skip
        result |= h.call(ML, "b10_mlflow_api", "search", params, folder)
    return result


def run(h: Harness) -> None:
    """Both sides, alternating; adds the B10 rows."""

    def measure(side: str) -> Callable[[int], Result]:
        return lambda rep: session(h, side)

    results = h.alternate("B10 MLflow API", {RH: measure(RH), ML: measure(ML)})
    size = sizes(h.settings.quick)
    rows: list[tuple[str, str, str, bool, Any]] = [
        ("mlflow.log_metric loop, 1 point/request", "log_per_s", "points/s", True,
         f"{size['points']:,}"),
        (f"search_runs, filter + order, all pages of {size['runs']:,} runs", "search_s", "s",
         False, f"{_expected(size['runs']):,} found"),
    ]  # fmt: skip
    for name, key, unit, higher, shown in rows:
        row = Row("B10", name, unit, higher, shown, shown, STORAGE)
        h.fill(row, RH, results[RH], key)
        h.fill(row, ML, results[ML], key)
    h.notes.append(
        "B10: the same MLflow client (MLflow's venv) against runhistory server's MLflow API "
        "and against mlflow server, each on PostgreSQL with two workers."
    )
