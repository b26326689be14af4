"""B5: a chart read over HTTP — many runs by many points of one metric, downsampled per run.

runhistory: one ``POST /api/v1/metrics/series`` for every run, ``max_points`` 1,000 (min/max
buckets), served by ``runhistory server`` on PostgreSQL. MLflow has no downsampling: a chart
needs ``get_metric_history`` of every run over REST (``mlflow server`` on PostgreSQL); it reads
fewer runs and the time is extrapolated to the same number of runs.
The data is written straight into each side's database before the server starts serving reads.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from contextlib import ExitStack
from typing import Any

from rhbench.common import median
from rhbench.harness import ML, RH, Harness, Result, Row
from rhbench.pg import for_mlflow, fresh_database
from rhbench.report import TIMES
from rhbench.servers import running

STORAGE = "server+PostgreSQL / server+PostgreSQL"
NAME = "loss"
MAX_POINTS = 1000


def rh_populate(database_url: str, runs: int, points: int) -> dict[str, Any]:
    """runhistory: ``runs`` runs of ``points`` points each, logged through the SDK on PostgreSQL."""
    from runhistory import Experiment, Workspace

    workspace = Workspace(tracking_uri=database_url, artifact_location=os.path.abspath("art"))
    experiment = Experiment(workspace, "bench-b5")
    run_ids = []
    for _ in range(runs):
        run = experiment.start_logging(outputs=False)
        log = run.log
        for i in range(points):
            log(NAME, i * 0.001, step=i)
        run.complete()
        run_ids.append(run.id)
    return {"run_ids": run_ids}


def rh_series(url: str, run_ids: list[str], points: int, repeat: int) -> dict[str, Any]:
    """runhistory: median time of the downsampled read of every run (request + JSON decode)."""
    body = json.dumps({"run_ids": run_ids, "names": [NAME], "max_points": MAX_POINTS}).encode()
    times = []
    for _ in range(repeat):
        request = urllib.request.Request(
            url + "/api/v1/metrics/series", data=body, headers={"Content-Type": "application/json"}
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=600) as response:
            series = json.loads(response.read())["series"]
        times.append(time.perf_counter() - started)
        _check(series, len(run_ids), points)
    return {"seconds": median(times)}


def _check(series: list[dict[str, Any]], runs: int, points: int) -> None:
    if len(series) != runs:
        raise RuntimeError(f"metrics/series returned {len(series)} series for {runs} runs")
    for one in series:
        if one["count"] != points or not 0 < len(one["x"]) <= MAX_POINTS:
            raise RuntimeError(
                f"series of {one['run_id']}: count {one['count']} (stored {points}), "
                f"{len(one['x'])} points drawn (at most {MAX_POINTS})"
            )


def sizes(quick: bool) -> dict[str, int]:
    """Runs and points per run of each side (MLflow reads fewer runs)."""
    if quick:
        return {"runs": 10, "points": 10_000, "ml_runs": 2}
    return {"runs": 100, "points": 100_000, "ml_runs": 3}


def populate(h: Harness, side: str, database_url: str, quick: bool) -> list[str]:
    """Write the runs of one side straight into its database; returns their ids."""
    size = sizes(quick)
    if side == RH:
        params = {"database_url": database_url, "runs": size["runs"], "points": size["points"]}
        return list(h.call(RH, "b5_chart", "rh_populate", params)["run_ids"])
    params = {
        "uri": for_mlflow(database_url),
        "runs": size["ml_runs"],
        "points": size["points"],
        "name": NAME,
        "experiment": "bench-b5",
    }
    return list(h.call(ML, "mlflow_data", "points", params)["run_ids"])


def read(h: Harness, side: str, url: str, run_ids: list[str], quick: bool) -> Result:
    """One timed chart read of a side (MLflow: extrapolated to runhistory's run count)."""
    size = sizes(quick)
    if side == RH:
        params = {"url": url, "run_ids": run_ids, "points": size["points"], "repeat": 3}
        return h.call(RH, "b5_chart", "rh_series", params)
    params = {"uri": url, "run_ids": run_ids, "name": NAME, "expected": size["points"]}
    result = h.call(ML, "mlflow_data", "read_history", params)
    return {"seconds": result["per_run_s"] * size["runs"]}


def add_row(h: Harness, results: dict[str, list[Result] | str]) -> None:
    """The B5 row."""
    size = sizes(h.settings.quick)
    runs, points = size["runs"], f"{size['points']:,}"
    row = Row(
        "B5",
        f"chart read, → {MAX_POINTS:,} points/run",
        "s",
        False,
        f"{runs} {TIMES} {points}",
        f"{size['ml_runs']} {TIMES} {points} (extrap.)",
        STORAGE,
    )
    h.fill(row, RH, results[RH], "seconds")
    h.fill(row, ML, results[ML], "seconds")
    h.notes.append(
        f"B5: runhistory downsamples on the server (POST /api/v1/metrics/series, max_points "
        f"{MAX_POINTS}); MLflow cannot, so it ships every point (get_metric_history per run)."
    )


def run(h: Harness) -> None:
    """Full size: one database and server per side, populated once; the reads alternate."""
    servers: dict[str, tuple[str, list[str]]] = {}
    with ExitStack() as stack:

        def measure(side: str) -> Any:
            def once(rep: int) -> Result:
                if side not in servers:
                    db = stack.enter_context(fresh_database(h.settings.postgres_url))
                    folder = h.scratch(f"b5-{side}")
                    # started by the first repetition, read by every one (not killed
                    # with the first: the stack stops it after the last)
                    server = stack.enter_context(running(h, side, db, folder, lasting=True))
                    servers[side] = (server.url, populate(h, side, db, False))
                url, run_ids = servers[side]
                return read(h, side, url, run_ids, False)

            return once

        results = h.alternate("B5", {RH: measure(RH), ML: measure(ML)})
    add_row(h, results)
