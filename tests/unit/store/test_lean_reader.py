"""The lean read-only reader of a SQLite store gives the very runs and experiments the SQL
store gives (same records, order and filters), refuses what it does not cover, steps aside
for a database it cannot serve as the store would, and reads while a writer holds the lock."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from runhistory.store.sql import SqlTrackingStore
from runhistory.store.sql.lean_reader import LeanReader
from runhistory.tracking.entities import (
    PropertyChange,
    RunCreate,
    RunCursor,
    RunQuery,
    TagChange,
    WriteBatch,
)

STATUSES = ("Completed", "Failed", "Running", "Canceled")


def _create(i: int, experiment_id: str) -> RunCreate:
    return RunCreate(
        f"r{i}", experiment_id, STATUSES[i % 4], 100.0 + i // 2,  # ties in creation time
        parent_run_id=f"r{i - 1}" if i % 5 == 0 and i else None,
        tags={"k": str(i), "bare": None}, properties={"p": f"v{i % 3}"},
        display_name=f"run {i}" if i % 2 else None,
    )  # fmt: skip


@pytest.fixture
def filled(tmp_path: Path) -> tuple[SqlTrackingStore, Path, list[str]]:
    path = tmp_path / "store.db"
    store = SqlTrackingStore(f"sqlite:///{path}")
    one = store.create_experiment("one", tags={"team": "a", "empty": None}).experiment_id
    two = store.create_experiment("two").experiment_id
    gone = store.create_experiment("gone").experiment_id
    store.update_experiment(gone, archived_time=5.0)
    creates = [_create(i, one if i % 3 else two) for i in range(60)]
    store.write_changes(WriteBatch(creates=creates))
    store.write_changes(WriteBatch(
        tags=[TagChange("r7", {"é": "ü"})], properties=[PropertyChange("r8", {"q": "w"})]
    ))  # fmt: skip
    store._write(
        lambda conn: conn.exec_driver_sql(
            'UPDATE runs SET error = \'{"message": "boom"}\', heartbeat_time = 1.5 '
            "WHERE id = 'r2'"
        )
    )
    return store, path, [one, two]


QUERIES = {
    "top level": {},
    "with children": {"include_children": True},
    "one status": {"statuses": ("Failed",)},
    "two statuses": {"statuses": ("Canceled", "Running"), "include_children": True},
    "created range": {"created_after": 105.0, "created_before": 120.0},
    "after a position": {"after": RunCursor(115.0, 30, "r30")},
    "limited": {"limit": 4},
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_runs_are_those_the_store_lists(
    filled: tuple[SqlTrackingStore, Path, list[str]], name: str
) -> None:
    store, path, experiment_ids = filled
    reader = LeanReader.open(str(path))
    assert reader is not None
    with reader:
        for experiment_id in experiment_ids:
            query = RunQuery(experiment_id=experiment_id, with_definition=False, **QUERIES[name])  # type: ignore[arg-type]
            expected = store.search_runs(query)
            assert expected, "the fixture has runs for every query"
            assert reader.search_runs(query) == expected
            assert list(reader.iterate_runs(replace(query, limit=None, after=None), (3, 7))) == (
                store.search_runs(replace(query, limit=None, after=None))
            )


def test_experiments_are_those_the_store_lists(
    filled: tuple[SqlTrackingStore, Path, list[str]],
) -> None:
    store, path, _ = filled
    with LeanReader.open(str(path)) as reader:  # type: ignore[union-attr]
        for view_type in ("ActiveOnly", "ArchivedOnly", "All"):
            assert reader.list_experiments(view_type) == store.list_experiments(view_type=view_type)
        with pytest.raises(ValueError):
            reader.list_experiments("Some")


def test_queries_it_does_not_cover_are_refused(
    filled: tuple[SqlTrackingStore, Path, list[str]],
) -> None:
    _, path, ids = filled
    with LeanReader.open(str(path)) as reader:  # type: ignore[union-attr]
        for query in (
            RunQuery(with_definition=False),
            RunQuery(experiment_id=ids[0], tags={"k": "1"}, with_definition=False),
            RunQuery(experiment_id=ids[0], properties={"p": None}, with_definition=False),
            RunQuery(experiment_id=ids[0], parent_run_id="r4", with_definition=False),
            RunQuery(experiment_id=ids[0]),  # with definitions
        ):
            assert not reader.covers(query)
            with pytest.raises(ValueError):
                reader.search_runs(query)


def test_it_steps_aside_for_databases_only_the_store_can_open(tmp_path: Path) -> None:
    assert LeanReader.open(str(tmp_path / "missing.db")) is None
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert LeanReader.open(str(empty)) is None
    older = tmp_path / "older.db"
    SqlTrackingStore(f"sqlite:///{older}").close()
    with sqlite3.connect(older) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0006'")
    conn.close()
    assert LeanReader.open(str(older)) is None
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    assert LeanReader.open(str(garbage)) is None


def test_it_reads_while_a_writer_holds_the_lock_and_never_writes(
    filled: tuple[SqlTrackingStore, Path, list[str]],
) -> None:
    store, path, ids = filled
    query = RunQuery(experiment_id=ids[0], with_definition=False)
    before = store.search_runs(query)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE runs SET display_name = 'changing' WHERE id = 'r1'")
    try:
        with LeanReader.open(str(path)) as reader:  # type: ignore[union-attr]
            assert reader.search_runs(query) == before  # the last committed state, unblocked
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                reader._conn.execute("DELETE FROM runs")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
