"""Run listings filtered by creation time (``created_after`` inclusive, ``created_before``
exclusive) on SQLite and PostgreSQL: the right runs, alone and with a status or a property
filter, across keyset pages; the plans read an index in listing order, no scan, no sort."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy.engine import Connection

from runhistory.store.sql import SqlTrackingStore
from runhistory.store.sql._runs import _listing, _select_runs
from runhistory.tracking.entities import (
    ExperimentInfo,
    RunCreate,
    RunCursor,
    RunQuery,
    WriteBatch,
)

RUNS = 3000


def _create(experiment_id: str, i: int) -> RunCreate:
    status = "Failed" if i % 7 == 0 else "Completed"
    return RunCreate(
        f"run-{i}", experiment_id, status, 1000.0 + i, properties={"shard": f"s{i % 3}"}
    )


def _fill(store: SqlTrackingStore, experiment_id: str) -> None:
    creates = [_create(experiment_id, i) for i in range(RUNS)]
    store.write_changes(WriteBatch(creates=creates))
    store._write(lambda conn: conn.exec_driver_sql("ANALYZE"))


def _expected(low: int, high: int, keep: object = None) -> list[str]:
    """Ids of the runs numbered low..high-1 (created 1000+i), newest first."""
    wanted = [i for i in range(low, high) if keep is None or keep(i)]  # type: ignore[operator]
    return [f"run-{i}" for i in reversed(wanted)]


def test_a_range_is_half_open_and_combines_with_other_filters(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    _fill(store, experiment.experiment_id)
    base = RunQuery(experiment_id=experiment.experiment_id)
    ranged = replace(base, created_after=1100.0, created_before=1200.0)
    assert [r.run_id for r in store.search_runs(ranged)] == _expected(100, 200)
    assert store.count_matching_runs(ranged) == 100
    since = replace(base, created_after=3990.5)
    assert [r.run_id for r in store.search_runs(since)] == _expected(2991, 3000)
    until = replace(base, created_before=1003.0)
    assert [r.run_id for r in store.search_runs(until)] == _expected(0, 3)
    failed = replace(ranged, statuses=("Failed",))
    assert [r.run_id for r in store.search_runs(failed)] == _expected(
        100, 200, lambda i: i % 7 == 0
    )
    shard = replace(ranged, properties={"shard": "s1"})  # led by the run_keys index
    found = [r.run_id for r in store.search_runs(shard)]
    assert found == _expected(100, 200, lambda i: i % 3 == 1)
    empty = replace(base, created_after=2000.0, created_before=1500.0)
    assert store.search_runs(empty) == [] and store.count_matching_runs(empty) == 0


def test_keyset_pages_of_a_range_see_each_run_once(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    _fill(store, experiment.experiment_id)
    query = RunQuery(experiment_id=experiment.experiment_id, created_after=1500.0,
                     created_before=2500.0, limit=64)  # fmt: skip
    seen: list[str] = []
    while True:
        page = store.search_runs(query)
        seen += [r.run_id for r in page]
        if len(page) < 64:
            break
        query = replace(query, after=RunCursor.of(page[-1]))
    assert seen == _expected(500, 1500)


def _plan(store: SqlTrackingStore, query: RunQuery) -> str:
    def work(conn: Connection) -> str:
        stmt = _listing(conn, query, _select_runs(False)).limit(51)
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "postgresql":
            # A few thousand rows: price out the scan and the sort to see whether an index
            # yields the rows in order.
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            conn.exec_driver_sql("SET LOCAL enable_sort = off")
            return "\n".join(str(r) for r in conn.exec_driver_sql("EXPLAIN " + sql).scalars())
        found = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).fetchall()
        return "\n".join(str(r[-1]) for r in found)

    return store._read(work)


RANGES = {
    "created range": {"created_after": 1100.0, "created_before": 1200.0},
    "since": {"created_after": 2900.0},
    "status and range": {"statuses": ("Failed",), "created_after": 1100.0},
    "range after a position": {
        "created_before": 2000.0,
        "after": RunCursor(1800.0, 801, "run-800"),
    },
    "property and range": {"properties": {"shard": "s2"}, "created_before": 2000.0},
}


@pytest.mark.parametrize("name", list(RANGES))
def test_range_plans_read_an_index_in_order(
    store: SqlTrackingStore, experiment: ExperimentInfo, name: str
) -> None:
    _fill(store, experiment.experiment_id)
    query = RunQuery(experiment_id=experiment.experiment_id, **RANGES[name])  # type: ignore[arg-type]
    plan = _plan(store, query)
    if store._engine.dialect.name == "postgresql":
        assert "Seq Scan" not in plan and "Sort" not in plan, plan
        assert "Index" in plan, plan
    else:
        lines = plan.splitlines()
        assert not any(line.startswith(("SCAN runs", "SCAN run_keys")) for line in lines), plan
        assert "USING" in plan and "INDEX" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
        # The range bounds the index search instead of filtering what it reads: a bound on
        # created_time alone or, after a position, on (created_time,number) as a row value.
        assert re.search(r"created_time[^ ]*[<>]", plan), plan
    assert store.search_runs(query)
