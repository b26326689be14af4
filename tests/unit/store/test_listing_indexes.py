"""Run listings are served by indexes on SQLite and PostgreSQL: the plan of each common filter
(status, a tag or property equal to a value, the plain newest-first listing, a page after a
continuation point) reads an index in listing order, never the whole runs table and no sort;
and the ``run_keys`` index follows every change of tags and properties (creation, overwrite,
removal, deletion)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection

from runhistory.store.sql import SqlTrackingStore
from runhistory.store.sql._runs import _listing, _select_runs
from runhistory.store.sql.schema import run_keys
from runhistory.tracking.entities import (
    ExperimentInfo,
    PropertyChange,
    RunCreate,
    RunCursor,
    RunQuery,
    StatusWrite,
    TagChange,
    WriteBatch,
)

RUNS = 3000


def _run(experiment_id: str, i: int) -> RunCreate:
    return RunCreate(
        f"run-{i}", experiment_id, "Failed" if i % 100 == 0 else "Completed", 1000.0 + i,
        tags={"group": f"g{i % 10}", "flag": None}, properties={"shard": f"s{i % 300}"},
    )  # fmt: skip


def _fill(store: SqlTrackingStore, experiment_id: str) -> None:
    creates = [_run(experiment_id, i) for i in range(RUNS)]
    store.write_changes(WriteBatch(creates=creates))
    store._write(lambda conn: conn.exec_driver_sql("ANALYZE"))


def _plan(store: SqlTrackingStore, query: RunQuery) -> str:
    def work(conn: Connection) -> str:
        stmt = _listing(conn, query, _select_runs(False)).limit(51)
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "postgresql":
            # On a few thousand rows PostgreSQL rightly prefers a sequential scan and a sort;
            # with both priced out, the plan shows whether an index yields the rows in order.
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            conn.exec_driver_sql("SET LOCAL enable_sort = off")
            rows = conn.exec_driver_sql("EXPLAIN " + sql).scalars()
            return "\n".join(str(r) for r in rows)
        found = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).fetchall()
        return "\n".join(str(r[-1]) for r in found)

    return store._read(work)


QUERIES: dict[str, dict[str, Any]] = {
    "newest first": {},
    "status": {"statuses": ("Failed",)},
    "property equals": {"properties": {"shard": "s7"}},
    "tag equals": {"tags": {"group": "g3"}},
    "after a position": {"after": RunCursor(2500.0, 1501, "run-1500")},
    "property after a position": {
        "properties": {"shard": "s7"},
        "after": RunCursor(2500.0, 1501, "run-1500"),
    },
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_listing_plans_read_an_index(
    store: SqlTrackingStore, experiment: ExperimentInfo, name: str
) -> None:
    _fill(store, experiment.experiment_id)
    query = RunQuery(experiment_id=experiment.experiment_id, **QUERIES[name])
    plan = _plan(store, query)
    if "QUERY PLAN" in plan or "Seq Scan" in plan or "Index" in plan:  # PostgreSQL
        assert "Seq Scan" not in plan and "Sort" not in plan, plan
        assert "Index" in plan, plan
    else:
        lines = plan.splitlines()
        assert not any(line.startswith("SCAN runs") or line == "SCAN r" for line in lines), plan
        assert not any(line.startswith("SCAN run_keys") for line in lines), plan
        assert "USING" in plan and "INDEX" in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # the order comes from the index
    listed = store.search_runs(query)
    assert listed and all(r.experiment_id == experiment.experiment_id for r in listed)


def _keys(store: SqlTrackingStore) -> set[tuple[Any, ...]]:
    """The index's keys: ``run_keys`` and, on SQLite, the keys of new runs still waiting."""
    query = select(run_keys.c.run_id, run_keys.c.kind, run_keys.c.key, run_keys.c.value)

    def work(conn: Connection) -> set[tuple[Any, ...]]:
        found = {tuple(r) for r in conn.execute(query)}
        if conn.dialect.name == "sqlite":
            for kind, column in ((0, "tags"), (1, "properties")):
                waiting = conn.exec_driver_sql(
                    f"SELECT p.run_id, {kind}, j.key, j.value "
                    f"FROM run_keys_pending p, json_each(p.{column}) j"
                )
                found |= {tuple(r) for r in waiting}
        return found

    return store._read(work)


def test_the_key_index_follows_every_change(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    long = "x" * 500
    store.write_changes(WriteBatch(creates=[
        RunCreate("a", experiment.experiment_id, "Running", 1.0, tags={"t": "1", "n": None},
                  properties={"p": long}),
        RunCreate("b", experiment.experiment_id, "Running", 2.0, tags={"t": "1"}),
    ]))  # fmt: skip
    assert _keys(store) == {("a", 0, "t", "1"), ("a", 0, "n", ""), ("a", 1, "p", "x" * 200),
                            ("b", 0, "t", "1")}  # fmt: skip
    store.write_changes(WriteBatch(
        tags=[TagChange("a", {"t": "2"}, remove=("n",)), TagChange("b", {"t": "1", "u": "v"})],
        properties=[PropertyChange("b", {"q": "w"})],
        statuses=[StatusWrite("b", ("Running",), "Completed", {})],
    ))  # fmt: skip
    assert _keys(store) == {("a", 0, "t", "2"), ("a", 1, "p", "x" * 200), ("b", 0, "t", "1"),
                            ("b", 0, "u", "v"), ("b", 1, "q", "w")}  # fmt: skip
    found = store.search_runs(RunQuery(experiment_id=experiment.experiment_id, tags={"t": "2"}))
    assert [r.run_id for r in found] == ["a"]
    long_match = RunQuery(experiment_id=experiment.experiment_id, properties={"p": long})
    assert [r.run_id for r in store.search_runs(long_match)] == ["a"]
    near = RunQuery(experiment_id=experiment.experiment_id, properties={"p": long + "y"})
    assert store.search_runs(near) == []  # the documents decide, not the 200-char key
    assert store.count_matching_runs(
        RunQuery(experiment_id=experiment.experiment_id, tags={"t": "1"})
    ) == 1  # fmt: skip
    store.delete_run("a")
    assert {k[0] for k in _keys(store)} == {"b"}
    store.delete_experiment(experiment.experiment_id)
    assert _keys(store) == set()


def test_counts_of_top_level_runs_leave_children_out(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    other = store.create_experiment("other").experiment_id
    store.write_changes(WriteBatch(creates=[
        RunCreate("p", experiment.experiment_id, "Running", 1.0),
        RunCreate("c1", experiment.experiment_id, "Running", 2.0, parent_run_id="p"),
        RunCreate("c2", experiment.experiment_id, "Running", 3.0, parent_run_id="c1"),
        RunCreate("q", experiment.experiment_id, "Completed", 4.0),
        RunCreate("o", other, "Running", 5.0),
        RunCreate("oc", other, "Running", 6.0, parent_run_id="o"),
    ]))  # fmt: skip
    top = RunQuery(experiment_id=experiment.experiment_id, include_children=False)
    assert store.count_matching_runs(top) == 2
    every = RunQuery(experiment_id=experiment.experiment_id)
    assert store.count_matching_runs(every) == 4
    completed = RunQuery(experiment_id=experiment.experiment_id, statuses=("Completed",))
    assert store.count_matching_runs(completed) == 1
