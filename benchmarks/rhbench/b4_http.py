"""B4: log over HTTP to a server on PostgreSQL — one client, then 8 concurrent client processes.

runhistory: ``runhistory server`` + SDK clients (``run.log`` per point, ``run.flush()``).
MLflow: ``mlflow server`` + ``MlflowClient.log_batch`` of 1,000 points per request (its fastest
way), and ``log_metric`` one point per request (after its batches, in the single client).
Both servers run :data:`rhbench.servers.WORKERS` worker processes on a fresh database.
Concurrent clients start together (a file barrier) and the rate is all points over the time
until the last flush returned. After flushing, every client reads its points back: a missing
point is an error.
"""

from __future__ import annotations

import time
from typing import Any

from rhbench.common import wait_for_start
from rhbench.harness import ML, RH, Harness, Result, Row
from rhbench.report import TIMES

STORAGE = "server+PostgreSQL / server+PostgreSQL"
NAME = "loss"


def rh_client(url: str, points: int, barrier: str | None, index: int) -> dict[str, Any]:
    """runhistory: log ``points`` values to a server, flush, and read them back."""
    from runhistory import Experiment, Workspace

    run = Experiment(Workspace(tracking_uri=url), "bench-b4").start_logging(outputs=False)
    log = run.log
    begin = wait_for_start(barrier, index) if barrier else time.time()
    for i in range(points):
        log(NAME, i * 0.001, step=i)
    run.flush()
    end = time.time()
    stored = len(run.get_metric_history(NAME))
    run.complete()
    return {"begin": begin, "end": end, "points": points, "stored": stored}


def mlflow_client(
    url: str, points: int, barrier: str | None, index: int, single: int = 0
) -> dict[str, Any]:
    """MLflow: log ``points`` values with ``log_batch`` of 1,000, then read them back.

    With ``single`` > 0, afterwards log that many points one ``log_metric`` request each into
    another run (``single_points_per_s``).
    """
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=url)
    experiment = client.get_experiment_by_name("bench-b4")
    experiment_id = experiment.experiment_id if experiment else _create(client)
    run_id = client.create_run(experiment_id).info.run_id
    begin = wait_for_start(barrier, index) if barrier else time.time()
    for base in range(0, points, 1000):
        now = int(time.time() * 1000)
        batch = [Metric(NAME, i * 0.001, now, i) for i in range(base, min(base + 1000, points))]
        client.log_batch(run_id, metrics=batch)
    end = time.time()
    stored = len(client.get_metric_history(run_id, NAME))
    client.set_terminated(run_id)
    result = {"begin": begin, "end": end, "points": points, "stored": stored}
    if single:
        run_id = client.create_run(experiment_id).info.run_id
        started = time.perf_counter()
        for i in range(single):
            client.log_metric(run_id, NAME, i * 0.001, int(time.time() * 1000), i)
        result["single_points_per_s"] = single / (time.perf_counter() - started)
        if len(client.get_metric_history(run_id, NAME)) != single:
            result["stored"] = -1  # reported as lost points
    return result


def _create(client: Any) -> str:
    try:
        return str(client.create_experiment("bench-b4"))
    except Exception:  # another client created it first
        return str(client.get_experiment_by_name("bench-b4").experiment_id)


def clients(h: Harness, side: str, url: str, count: int, params: Result) -> Result:
    """Run ``count`` clients at once behind a barrier; aggregate points/s, checked counts."""
    folder = h.scratch(f"b4-{side}-clients")
    function = "rh_client" if side == RH else "mlflow_client"
    barrier = str(folder) if count > 1 else None
    processes = [
        h.spawn(
            side,
            "b4_http",
            function,
            params | {"url": url, "barrier": barrier, "index": i},
            h.scratch(f"b4-{side}-{i}"),
        )
        for i in range(count)
    ]
    if barrier:
        h.start_together(folder, processes)
    results = h.collect_all(processes)
    lost = [(r["points"], r["stored"]) for r in results if r["stored"] != r["points"]]
    if lost:
        raise RuntimeError(f"{side}: a client logged {lost[0][0]} points, {lost[0][1]} stored")
    begin = min(r["begin"] for r in results)
    total = sum(r["points"] for r in results)
    rate = total / (max(r["end"] for r in results) - begin)
    return {"points_per_s": rate, "single": results[0].get("single_points_per_s")}


def sizes(quick: bool) -> dict[str, int]:
    """Points per client for each side, and how many concurrent clients."""
    if quick:
        return {RH: 20_000, ML: 2_000, "ml_single": 20, "clients": 2}
    return {RH: 200_000, ML: 5_000, "ml_single": 100, "clients": 8}


def measure(h: Harness, side: str, url: str, quick: bool) -> Result:
    """The client runs of one side against its running server."""
    size = sizes(quick)
    single = {} if side == RH else {"single": size["ml_single"]}
    one = clients(h, side, url, 1, {"points": size[side]} | single)
    many = clients(h, side, url, size["clients"], {"points": size[side]})
    return {"one": one["points_per_s"], "single": one["single"], "many": many["points_per_s"]}


def add_rows(h: Harness, results: dict[str, list[Result] | str]) -> None:
    """The B4 rows from the server sessions' results."""
    size = sizes(h.settings.quick)
    rh_n, ml_n, count = f"{size[RH]:,}", f"{size[ML]:,} (extrap.)", size["clients"]
    rows = [
        ("HTTP, 1 client: log → flush", "one", "one", rh_n, ml_n + " batch"),
        (
            "  vs MLflow log_metric, 1 point/request",
            "one",
            "single",
            rh_n,
            f"{size['ml_single']:,} (extrap.)",
        ),
        (
            f"HTTP, {count} client processes, total",
            "many",
            "many",
            f"{count} {TIMES} {rh_n}",
            f"{count} {TIMES} {ml_n} batch",
        ),
    ]
    for measure_name, rh_key, ml_key, rh_size, ml_size in rows:
        row = Row("B4", measure_name, "points/s", True, rh_size, ml_size, STORAGE)
        h.fill(row, RH, results[RH], rh_key)
        h.fill(row, ML, results[ML], ml_key)
    h.notes.append(
        "B4: MLflow logs with log_batch(1,000 points/request) unless said; every client's points "
        "are read back after flush (none lost)."
    )
