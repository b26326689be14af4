"""Bulk data for MLflow's read workloads (runs in MLflow's interpreter).

Writing millions of points through MLflow's API would take longer than the whole benchmark
(about 12,500 points/s with ``log_batch``), so each run gets its first 1,000 points through
``log_batch`` and the rest are inserted as the very same rows into MLflow's ``metrics`` table
(key, value, timestamp, run_uuid, step, is_nan), with ``latest_metrics`` set to the last point.
Reads then go through MLflow's public API only.
"""

from __future__ import annotations

import time
from typing import Any

FIRST = 1000
CHUNK = 50_000


def points(uri: str, runs: int, points: int, name: str, experiment: str) -> dict[str, Any]:
    """Create ``runs`` runs holding ``points`` points of metric ``name`` each; returns run ids."""
    import mlflow
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    experiment_id = client.create_experiment(experiment)
    run_ids = []
    for _ in range(runs):
        run_id = client.create_run(experiment_id).info.run_id
        now = int(time.time() * 1000)
        head = [Metric(name, i * 0.001, now, i) for i in range(min(FIRST, points))]
        client.log_batch(run_id, metrics=head)
        _insert_points(uri, run_id, name, range(len(head), points), now)
        client.set_terminated(run_id)
        run_ids.append(run_id)
    return {"run_ids": run_ids, "experiment_id": experiment_id}


def _insert_points(uri: str, run_id: str, name: str, steps: range, now: int) -> None:
    if not steps:
        return
    import sqlalchemy as sa

    engine = sa.create_engine(uri)
    table = sa.Table("metrics", sa.MetaData(), autoload_with=engine)
    latest = sa.Table("latest_metrics", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        for start in range(steps.start, steps.stop, CHUNK):
            rows = [
                {
                    "key": name,
                    "value": i * 0.001,
                    "timestamp": now,
                    "run_uuid": run_id,
                    "step": i,
                    "is_nan": False,
                }
                for i in range(start, min(start + CHUNK, steps.stop))
            ]
            conn.execute(table.insert(), rows)
        last = steps.stop - 1
        conn.execute(
            latest.update()
            .where(latest.c.run_uuid == run_id, latest.c.key == name)
            .values(value=last * 0.001, step=last, timestamp=now)
        )
    engine.dispose()


def read_history(uri: str, run_ids: list[str], name: str, expected: int) -> dict[str, Any]:
    """Time ``MlflowClient.get_metric_history`` of every run; checks the point counts."""
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    started = time.perf_counter()
    counts = [len(client.get_metric_history(run_id, name)) for run_id in run_ids]
    elapsed = time.perf_counter() - started
    wrong = [c for c in counts if c != expected]
    if wrong:
        raise RuntimeError(f"MLflow returned {wrong[0]} points where {expected} were stored")
    return {"seconds": elapsed, "per_run_s": elapsed / len(run_ids)}
