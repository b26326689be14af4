"""B1: log scalar points one call at a time, then flush (embedded SQLite on both sides).

runhistory: ``run.log(name, value, step=i)`` for every point, then ``run.flush()``.
MLflow: ``mlflow.log_metric`` (synchronous, and ``synchronous=False``) on fewer points, and
``MlflowClient.log_batch`` of 1,000 metrics per call; its rates are extrapolated from those sizes.
Aim: ``run.track(value, name=, step=)`` for every point, then ``run.close()``, on fewer points
(extrapolated; see :mod:`rhbench.aim_side`).
Each call's cost is the median over blocks of ``chunk`` consecutive calls (block time / size).
"""

from __future__ import annotations

import os
import time
from typing import Any

from rhbench import aim_side
from rhbench.common import median, peak_rss_mb
from rhbench.harness import AIM, ML, RH, Harness, Row

STORAGE = "SQLite file / SQLite file"


def rh_log(points: int, chunk: int) -> dict[str, Any]:
    """runhistory: log ``points`` values with ``run.log`` in a loop, then flush."""
    from runhistory import Experiment, Workspace

    run = Experiment(Workspace(path=os.path.abspath("ws")), "bench-b1").start_logging(outputs=False)
    log, clock, blocks = run.log, time.perf_counter_ns, []
    started = clock()
    for base in range(0, points, chunk):
        block = clock()
        for i in range(base, base + chunk):
            log("loss", i * 0.001, step=i)
        blocks.append(clock() - block)
    looped = clock()
    run.flush()
    flushed = clock()
    rss_mb = peak_rss_mb()  # before the read-back below, which holds every point in memory
    stored = len(run.get_metric_history("loss"))
    run.complete()
    rates = _rates(points, chunk, blocks, started, looped, flushed)
    return rates | {"stored": stored, "rss_mb": rss_mb, "run_id": run.id}


def _rates(
    points: int, chunk: int, blocks: list[int], started: int, looped: int, flushed: int
) -> dict[str, Any]:
    return {
        "points_per_s": points / ((flushed - started) / 1e9),
        "loop_points_per_s": points / ((looped - started) / 1e9),
        "call_us": median(blocks) / chunk / 1e3,
        "flush_s": (flushed - looped) / 1e9,
    }


def mlflow_log(single: int, asynchronous: int, batched: int, chunk: int) -> dict[str, Any]:
    """MLflow: ``log_metric`` one point per call (sync and async) and ``log_batch`` of 1,000."""
    import mlflow
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(f"sqlite:///{os.path.abspath('mlflow.db')}")
    mlflow.set_experiment("bench-b1")
    result: dict[str, Any] = {}
    for label, count, synchronous in (("sync", single, True), ("async", asynchronous, False)):
        with mlflow.start_run():
            log, clock, blocks = mlflow.log_metric, time.perf_counter_ns, []
            started = clock()
            for base in range(0, count, chunk):
                block = clock()
                for i in range(base, base + chunk):
                    log("loss", i * 0.001, step=i, synchronous=synchronous)
                blocks.append(clock() - block)
            looped = clock()
            if not synchronous:
                mlflow.flush_async_logging()
            rates = _rates(count, chunk, blocks, started, looped, clock())
        result |= {f"{label}_{k}": v for k, v in rates.items()}
        if label == "sync":
            result["rss_mb"] = peak_rss_mb()
    client = MlflowClient()
    with mlflow.start_run() as run:
        started = time.perf_counter_ns()
        for base in range(0, batched, 1000):
            now = int(time.time() * 1000)
            metrics = [Metric("loss", i * 0.001, now, i) for i in range(base, base + 1000)]
            client.log_batch(run.info.run_id, metrics=metrics)
        elapsed = (time.perf_counter_ns() - started) / 1e9
        stored = len(client.get_metric_history(run.info.run_id, "loss"))
    result |= {"batch_points_per_s": batched / elapsed, "batch_stored": stored}
    return result


def run(h: Harness) -> None:
    """Measure B1 on both sides and add its rows."""
    quick = h.settings.quick
    rh_points = 100_000 if quick else 1_000_000
    sizes = {"single": 50, "asynchronous": 50, "batched": 5_000}
    if not quick:
        sizes = {"single": 1_000, "asynchronous": 1_000, "batched": 50_000}
    results = h.alternate(
        "B1",
        {
            RH: lambda rep: h.call(RH, "b1_log", "rh_log", {"points": rh_points, "chunk": 1000}),
            ML: lambda rep: h.call(ML, "b1_log", "mlflow_log", sizes | {"chunk": 10}),
            AIM: aim_side.b1_side(h),
        },
    )
    _check_counts(h, results, rh_points)
    n, s, b = f"{rh_points:,}", f"{sizes['single']:,} (extrap.)", f"{sizes['batched']:,}"
    rows = [
        ("log 1 point/call, then flush", "points/s", True, "points_per_s", "sync_points_per_s", s),
        ("  median cost of one call", "µs", False, "call_us", "sync_call_us", s),
        ("  vs MLflow log_metric async", "points/s", True, "points_per_s", "async_points_per_s", s),
        ("  vs MLflow log_batch(1,000)", "points/s", True, "points_per_s", "batch_points_per_s", b),
        ("  peak RSS of the process", "MiB", False, "rss_mb", "rss_mb", f"{sizes['single']:,}"),
    ]
    by_key: dict[str, Row] = {}
    for measure, unit, higher, rh_key, ml_key, ml_size in rows:
        row = Row("B1", measure, unit, higher, n, ml_size, STORAGE)
        h.fill(row, RH, results[RH], rh_key)
        h.fill(row, ML, results[ML], ml_key)
        by_key.setdefault(rh_key, row)
    aim_side.b1_cells(h, by_key, results[AIM], rh_points)


def _check_counts(h: Harness, results: dict[str, Any], expected: int) -> None:
    got = results.get(RH)
    if isinstance(got, list):
        for result in got:
            if result["stored"] != expected:
                h.errors.append(f"B1 runhistory stored {result['stored']} of {expected} points")
