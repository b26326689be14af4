"""B4 (latency): 200 ``GET`` of one run on a single kept-alive connection to a real server.

Small requests on a reused connection show the per-request overhead of the server itself (and
anything that delays small TCP segments, such as a socket without ``TCP_NODELAY``). Both sides
create one run, then read it 200 times over one ``http.client`` connection (standard library,
the same client for both); the rows give the median and the 99th percentile in milliseconds.
"""

from __future__ import annotations

import http.client
import time
from typing import Any
from urllib.parse import urlsplit

from rhbench.harness import ML, RH, Harness, Result, Row

REQUESTS = 200
STORAGE = "server+PostgreSQL / server+PostgreSQL"


def latencies(url: str, path: str, count: int) -> list[float]:
    """Milliseconds of ``count`` GETs of ``path`` over one connection (a warm-up first)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        times = []
        for i in range(count + 1):
            started = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200 or response.will_close:
                raise RuntimeError(f"GET {path}: HTTP {response.status} {body[:200]!r}")
            if i:  # the first request opens the connection
                times.append((time.perf_counter() - started) * 1e3)
        return times
    finally:
        conn.close()


def rh_client(url: str, count: int) -> dict[str, Any]:
    """runhistory: one run made with the SDK, then ``GET /api/v1/runs/{id}``."""
    from runhistory import Experiment, Workspace

    run = Experiment(Workspace(tracking_uri=url), "bench-b4-latency").start_logging(outputs=False)
    run.complete()
    return _summary(latencies(url, f"/api/v1/runs/{run.id}", count))


def mlflow_client(url: str, count: int) -> dict[str, Any]:
    """MLflow: one run made with MlflowClient, then ``GET /api/2.0/mlflow/runs/get``."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=url)
    experiment = client.get_experiment_by_name("bench-b4-latency")
    experiment_id = (
        experiment.experiment_id if experiment else client.create_experiment("bench-b4-latency")
    )
    run_id = client.create_run(experiment_id).info.run_id
    return _summary(latencies(url, f"/api/2.0/mlflow/runs/get?run_id={run_id}", count))


def _summary(times: list[float]) -> dict[str, Any]:
    ordered = sorted(times)
    return {
        "p50_ms": ordered[len(ordered) // 2],
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    }


def measure(h: Harness, side: str, url: str) -> Result:
    """p50/p99 of one side against its running server."""
    function = "rh_client" if side == RH else "mlflow_client"
    got = h.call(side, "b4_keepalive", function, {"url": url, "count": REQUESTS})
    return {"keepalive_p50": got["p50_ms"], "keepalive_p99": got["p99_ms"]}


def add_rows(h: Harness, results: dict[str, list[Result] | str]) -> None:
    """The two latency rows from the server sessions' results."""
    size = f"{REQUESTS} GET, 1 connection"
    for key, label in (("keepalive_p50", "p50"), ("keepalive_p99", "p99")):
        row = Row("B4", f"kept-alive GET run, {label}", "ms", False, size, size, STORAGE)
        h.fill(row, RH, results[RH], key)
        h.fill(row, ML, results[ML], key)
