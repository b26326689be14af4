"""Run numbers: unique and increasing under concurrent creations; where a failed batch
leaves a gap (PostgreSQL reserves them in a transaction of their own, SQLite does not), and
where it does not (PostgreSQL's one-statement batch of new runs numbers them itself)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from runhistory.errors import ConflictError, NotFoundError
from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import (
    ExperimentInfo,
    MetricWrite,
    PropertyChange,
    RunCreate,
    StatusWrite,
    TagChange,
    WriteBatch,
)

THREADS = 6
BATCHES = 8
RUNS = 5


def _create(run_id: str, experiment: ExperimentInfo | str) -> RunCreate:
    experiment_id = experiment if isinstance(experiment, str) else experiment.experiment_id
    return RunCreate(run_id, experiment_id, "Running", time.time())


def test_concurrent_creations_get_unique_numbers(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    failures: list[BaseException] = []

    def create(thread: int) -> None:
        try:
            for batch in range(BATCHES):
                creates = [_create(f"t{thread}-b{batch}-r{i}", experiment) for i in range(RUNS)]
                store.write_changes(WriteBatch(creates=creates))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    numbers = {
        f"t{t}-b{b}-r{i}": store.get_run(f"t{t}-b{b}-r{i}").number
        for t in range(THREADS)
        for b in range(BATCHES)
        for i in range(RUNS)
    }
    assert len(set(numbers.values())) == THREADS * BATCHES * RUNS
    assert min(numbers.values()) == 1 and max(numbers.values()) == THREADS * BATCHES * RUNS
    for t in range(THREADS):  # a batch's runs are numbered in creation order, batches too
        mine = [numbers[f"t{t}-b{b}-r{i}"] for b in range(BATCHES) for i in range(RUNS)]
        assert mine == sorted(mine)


def test_a_failed_batch_leaves_a_gap_on_postgresql_only(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    store.write_changes(WriteBatch(creates=[_create("first", experiment)]))
    with pytest.raises(NotFoundError, match="ghost"):
        store.write_changes(
            WriteBatch(
                creates=[_create("lost-1", experiment), _create("lost-2", experiment)],
                tags=[TagChange("ghost", {"a": "b"})],
            )
        )
    store.write_changes(WriteBatch(creates=[_create("next", experiment)]))
    postgres = store._engine.dialect.name == "postgresql"
    assert store.get_run("first").number == 1
    assert store.get_run("next").number == (4 if postgres else 2)


def test_a_missing_experiment_reserves_nothing(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    with pytest.raises(NotFoundError, match="no-such-experiment"):
        store.write_changes(
            WriteBatch(creates=[_create("a", experiment), _create("b", "no-such-experiment")])
        )
    store.write_changes(WriteBatch(creates=[_create("c", experiment)]))
    assert store.get_run("c").number == 1  # the reservation was refused as a whole


@pytest.mark.parametrize("store_uri", ["postgresql"], indirect=True)
def test_the_batch_commits_durably_after_numbers_reserved_apart(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    """PostgreSQL (SQLite reserves numbers in the batch's own transaction): the reservation's
    commit skips the wait for the disk; the batch's transaction that follows it on the same
    connection (and every later one) still waits."""
    from runhistory.store.sql._run_numbers import reserve_apart
    from runhistory.store.sql.engine import run_transaction

    numbers: dict[str, int] = {}
    reserve = reserve_apart("postgresql", [_create("a", experiment)], numbers)
    assert reserve is not None

    def setting(conn: Connection) -> str:
        return str(conn.execute(text("SHOW synchronous_commit")).scalar_one())

    assert run_transaction(store._engine, setting, first=reserve) == "on"
    assert numbers == {"a": 1}
    with store._engine.connect() as conn:
        assert setting(conn) == "on"
        conn.rollback()


def _short_runs(experiment_id: str, *run_ids: str) -> WriteBatch:
    """New runs with tags, properties, a metric and a final status: a batch that goes out as
    one statement on PostgreSQL."""
    now = time.time()
    return WriteBatch(
        creates=[RunCreate(r, experiment_id, "Running", now) for r in run_ids],
        tags=[TagChange(r, {"team": "a"}) for r in run_ids],
        properties=[PropertyChange(r, {"seed": r}) for r in run_ids],
        metrics={r: [MetricWrite("loss", "scalar", [(None, 0, 0.5, None, now)])] for r in run_ids},
        statuses=[StatusWrite(r, ("Running",), "Completed", {"end_time": now}) for r in run_ids],
        claims=[(run_ids[0], f"batch-{run_ids[0]}")],
    )


def _key_numbers(store: SqlTrackingStore) -> dict[str, set[int]]:
    with store._engine.connect() as conn:
        rows = conn.execute(text("SELECT run_id, number FROM run_keys")).all()
    found: dict[str, set[int]] = {}
    for run_id, number in rows:
        found.setdefault(run_id, set()).add(number)
    return found


def test_new_runs_of_one_batch_and_their_keys_are_numbered_after_the_stored_ones(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    store.write_changes(WriteBatch(creates=[_create("first", experiment)]))
    store.write_changes(_short_runs(experiment.experiment_id, "a", "b", "c"))
    store.write_changes(_short_runs(experiment.experiment_id, "d"))
    numbers = {r: store.get_run(r).number for r in ("first", "a", "b", "c", "d")}
    assert numbers == {"first": 1, "a": 2, "b": 3, "c": 4, "d": 5}
    if store._engine.dialect.name == "postgresql":  # SQLite's new keys wait elsewhere first
        keys = _key_numbers(store)  # every key row of a run carries the run's number
        assert {r: keys[r] for r in "abcd"} == {r: {numbers[r]} for r in "abcd"}
    run = store.get_run("b")
    assert (run.status, run.tags, run.properties) == ("Completed", {"team": "a"}, {"seed": "b"})


def test_a_batch_of_new_runs_stored_before_leaves_no_gap(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    batch = _short_runs(experiment.experiment_id, "a", "b")
    store.write_changes(batch)
    with pytest.raises(ConflictError):  # a replay: refused as a whole, numbers too
        store.write_changes(batch)
    store.write_changes(_short_runs(experiment.experiment_id, "c"))
    assert [store.get_run(r).number for r in "abc"] == [1, 2, 3]


def test_a_batch_of_new_runs_in_a_missing_experiment_stores_nothing(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    with pytest.raises(NotFoundError, match="no-such-experiment"):
        store.write_changes(_short_runs("no-such-experiment", "a", "b"))
    with store._engine.connect() as conn:
        counts = [conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                  for table in ("runs", "run_keys", "metrics", "metric_batches")]  # fmt: skip
    assert counts == [0, 0, 0, 0]  # no run, key, metric or batch id (a retry is not a replay)
    store.write_changes(_short_runs(experiment.experiment_id, "a"))
    assert store.get_run("a").number == 1
