"""The filters MLflow's ordered searches hand to the store read an index where one exists, on
SQLite and PostgreSQL: a metric comparison reads the run's metric row by ``(run_id, name)``, a
status the experiment-and-status index, a run id the runs' key; and they select the runs they
name. (Params and tags are compared on the run's document: see ``_sorted_filters._document``.)"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection

from runhistory.store.sql import SqlTrackingStore
from runhistory.store.sql._sorted_filters import filter_conditions
from runhistory.store.sql.schema import runs
from runhistory.tracking.entities import (
    VTYPE_FLOAT,
    ExperimentInfo,
    MetricWrite,
    RunCreate,
    WriteBatch,
)
from runhistory.tracking.run_matching import RunFilter
from runhistory.tracking.run_sorting import SortedRunQuery, SortTerm
from support import writes

RUNS = 3000

FILTERS: dict[str, tuple[RunFilter, str, str]] = {
    # name: (filter, table or index the plan must read by key, what SQLite calls it)
    "metric compares": (RunFilter("metric", "acc", ">", 0.99), "ux_metrics_run_name",
                        "ux_metrics_run_name"),
    "status equals": (RunFilter("attribute", "status", "=", "FAILED"),
                      "ix_runs_experiment_status", "ix_runs_experiment_status"),
    "run id equals": (RunFilter("attribute", "run_id", "=", "run-7"), "runs_pkey",
                      "sqlite_autoindex_runs_1"),
}  # fmt: skip


def _fill(store: SqlTrackingStore, experiment_id: str) -> None:
    creates = [
        RunCreate(f"run-{i}", experiment_id, "Failed" if i % 100 == 0 else "Completed",
                  1000.0 + i, tags={"group": f"g{i % 10}"}, properties={"shard": f"s{i % 300}"})
        for i in range(RUNS)
    ]  # fmt: skip
    store.write_changes(WriteBatch(creates=creates))
    for i in range(0, RUNS, 10):
        point = (None, VTYPE_FLOAT, i / RUNS, None, 1.0)
        writes.log_metrics(store, f"run-{i}", [MetricWrite("acc", "scalar", [point])])
    store._write(lambda conn: conn.exec_driver_sql("ANALYZE"))


def _plan(store: SqlTrackingStore, experiment_id: str, found: RunFilter) -> str:
    def work(conn: Connection) -> str:
        conditions = filter_conditions(conn, [found], [experiment_id])
        stmt = select(runs.c.id).where(runs.c.experiment_id == experiment_id, *conditions)
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "postgresql":
            # A few thousand rows are cheaper to scan; with scans priced out, the plan shows
            # whether the filter can read an index at all.
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            return "\n".join(str(r) for r in conn.exec_driver_sql("EXPLAIN " + sql).scalars())
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).fetchall()
        return "\n".join(str(r[-1]) for r in rows)

    return store._read(work)


@pytest.mark.parametrize("name", list(FILTERS))
def test_pushed_filters_read_an_index(
    store: SqlTrackingStore, experiment: ExperimentInfo, name: str
) -> None:
    _fill(store, experiment.experiment_id)
    found, pg_index, sqlite_index = FILTERS[name]
    plan = _plan(store, experiment.experiment_id, found)
    if store._engine.dialect.name == "postgresql":
        assert pg_index in plan, plan
        assert "Seq Scan on metrics" not in plan, plan
    else:
        assert sqlite_index in plan, plan
        assert "SCAN filter_metric" not in plan, plan
    query = SortedRunQuery((experiment.experiment_id,), (SortTerm("attribute", "run_id"),),
                           RUNS, None, (found,))  # fmt: skip
    listed = [run.run_id for run, _ in store.search_runs_sorted(query)]
    assert listed == sorted(_expected(name)), name


def _expected(name: str) -> list[str]:
    wanted: dict[str, Any] = {
        "metric compares": [i for i in range(0, RUNS, 10) if i / RUNS > 0.99],
        "status equals": [i for i in range(RUNS) if i % 100 == 0],
        "run id equals": [7],
    }
    return [f"run-{i}" for i in wanted[name]]
