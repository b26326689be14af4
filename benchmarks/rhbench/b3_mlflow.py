"""Grow MLflow's B3 listing corpus to runhistory's size (runs in MLflow's interpreter).

Creating 10,000 runs through MLflow's API takes minutes, so the runs created through the API
serve as templates: run ``k`` copies template ``k % n``'s rows in ``runs`` and its system tags
(``mlflow.*``), with a new id, a later start time, and run ``k``'s own params, tags, status and
metrics — the same rows MLflow would have written for it.
"""

from __future__ import annotations

import uuid
from typing import Any

from rhbench.b3_runs import EXPERIMENT, failed, properties, tags


def grow(uri: str, template_runs: int, total: int) -> dict[str, Any]:
    """Add runs ``template_runs .. total-1`` to the experiment of :mod:`rhbench.b3_runs`."""
    import sqlalchemy as sa

    engine = sa.create_engine(uri)
    meta = sa.MetaData()
    t = {
        n: sa.Table(n, meta, autoload_with=engine)
        for n in ("runs", "tags", "params", "metrics", "latest_metrics")
    }
    with engine.begin() as conn:
        experiments = sa.Table("experiments", meta, autoload_with=engine)
        experiment_id = conn.execute(
            sa.select(experiments.c.experiment_id).where(experiments.c.name == EXPERIMENT)
        ).scalar_one()
        templates = [
            dict(r._mapping)
            for r in conn.execute(
                sa.select(t["runs"])
                .where(t["runs"].c.experiment_id == experiment_id)
                .order_by(t["runs"].c.start_time)
            )
        ]
        system = _system_tags(conn, t["tags"], [r["run_uuid"] for r in templates])
        rows: dict[str, list[dict[str, Any]]] = {n: [] for n in t}
        last_start = max(r["start_time"] for r in templates)
        for k in range(template_runs, total):
            template = templates[k % len(templates)]
            _add_run(rows, template, system[template["run_uuid"]], k, last_start + k)
        for name, table in t.items():
            for start in range(0, len(rows[name]), 20_000):
                conn.execute(table.insert(), rows[name][start : start + 20_000])
    engine.dispose()
    return {"runs": total}


def _system_tags(conn: Any, table: Any, run_ids: list[str]) -> dict[str, dict[str, str]]:
    import sqlalchemy as sa

    found: dict[str, dict[str, str]] = {run_id: {} for run_id in run_ids}
    query = sa.select(table).where(table.c.key.like("mlflow.%"), table.c.run_uuid.in_(run_ids))
    for row in conn.execute(query):
        found[row.run_uuid][row.key] = row.value
    return found


def _add_run(
    rows: dict[str, list[dict[str, Any]]],
    template: dict[str, Any],
    system: dict[str, str],
    k: int,
    start: int,
) -> None:
    run_id = uuid.uuid4().hex
    status = "FAILED" if failed(k) else "FINISHED"
    rows["runs"].append(
        template
        | {
            "run_uuid": run_id,
            "name": f"run-{k}",
            "status": status,
            "start_time": start,
            "end_time": start + 5,
            "artifact_uri": template["artifact_uri"].replace(template["run_uuid"], run_id),
        }
    )
    all_tags = system | {"mlflow.runName": f"run-{k}"} | tags(k)
    rows["tags"] += [{"key": key, "value": v, "run_uuid": run_id} for key, v in all_tags.items()]
    rows["params"] += [
        {"key": key, "value": v, "run_uuid": run_id} for key, v in properties(k).items()
    ]
    for j in range(3):
        point = {
            "key": f"metric{j}",
            "value": k * 0.1 + j,
            "timestamp": start,
            "step": 0,
            "is_nan": False,
            "run_uuid": run_id,
        }
        rows["metrics"].append(point)
        rows["latest_metrics"].append(point)
