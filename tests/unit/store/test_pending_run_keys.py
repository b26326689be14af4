"""Keys of new runs waiting for the ``run_keys`` index (SQLite; PostgreSQL indexes them at once).

A run is found by an equality filter on a tag or property as soon as its creation is committed:
while its keys wait (fewer than ``MOVE_AT`` runs waiting), once they were moved in bulk, after
its tags or properties changed while they waited, after the store was closed or the process
that wrote it was killed. Values keep the index's typing (``True`` is keyed ``"True"``, not
``1``), counts and the experiment's key summary count waiting runs, and the listing of waiting
runs reads the runs by their ids, never the whole table.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from runhistory.store.sql import SqlTrackingStore
from runhistory.store.sql._run_keys import MOVE_AT
from runhistory.store.sql._runs import _listing, _select_runs, _waiting
from runhistory.tracking.entities import (
    ExperimentInfo,
    PropertyChange,
    RunCreate,
    RunCursor,
    RunQuery,
    TagChange,
    WriteBatch,
)
from support.processes import killed_after_first_line


def _create(store: SqlTrackingStore, experiment_id: str, i: int, **documents: Any) -> str:
    """Run ``run-i`` created at 1000+i in a batch of its own (tag ``group``, property
    ``shard`` unless given)."""
    tags = documents.get("tags", {"group": f"g{i % 2}"})
    properties = documents.get("properties", {"shard": f"s{i % 3}"})
    create = RunCreate(f"run-{i}", experiment_id, "Completed", 1000.0 + i, tags=tags,
                       properties=properties)  # fmt: skip
    store.write_changes(WriteBatch(creates=[create]))
    return create.run_id


def _waiting_count(store: SqlTrackingStore) -> int:
    query = "SELECT count(*) FROM run_keys_pending"
    return int(store._read(lambda conn: conn.exec_driver_sql(query).scalar_one()))


def _indexed_runs(store: SqlTrackingStore) -> set[str]:
    query = "SELECT DISTINCT run_id FROM run_keys"
    return set(store._read(lambda conn: conn.exec_driver_sql(query).scalars().all()))


def _ids(store: SqlTrackingStore, query: RunQuery) -> list[str]:
    return [r.run_id for r in store.search_runs(query)]


def _expected(count: int, keep: Any) -> list[str]:
    return [f"run-{i}" for i in reversed(range(count)) if keep(i)]


def test_new_runs_are_found_while_their_keys_wait(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    exp = experiment.experiment_id
    for i in range(10):
        _create(store, exp, i)
    sqlite = store._engine.dialect.name == "sqlite"
    # SQLite: ten rows wait, none indexed yet; PostgreSQL: indexed at once, nothing waits.
    assert _waiting_count(store) == (10 if sqlite else 0)
    assert _indexed_runs(store) == (set() if sqlite else {f"run-{i}" for i in range(10)})
    shard = RunQuery(experiment_id=exp, properties={"shard": "s1"})
    assert _ids(store, shard) == _expected(10, lambda i: i % 3 == 1)
    both = replace(shard, tags={"group": "g0"})
    assert _ids(store, both) == _expected(10, lambda i: i % 3 == 1 and i % 2 == 0)
    assert store.count_matching_runs(shard) == 3 and store.count_matching_runs(both) == 1
    assert _ids(store, replace(shard, limit=2)) == ["run-7", "run-4"]
    assert _ids(store, replace(shard, limit=2, offset=1)) == ["run-4", "run-1"]
    assert _ids(store, replace(shard, after=RunCursor(1007.0, 8, "run-7"))) == ["run-4", "run-1"]
    assert _ids(store, replace(shard, created_after=1002.0, created_before=1005.0)) == ["run-4"]
    assert _ids(store, replace(shard, properties={"shard": "s9"})) == []


def test_listings_merge_waiting_and_moved_runs_across_a_bulk_move(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    exp = experiment.experiment_id
    sqlite = store._engine.dialect.name == "sqlite"
    for i in range(MOVE_AT - 1):
        _create(store, exp, i)
    assert _waiting_count(store) == (MOVE_AT - 1 if sqlite else 0)
    _create(store, exp, MOVE_AT - 1)  # the write that makes MOVE_AT: it moves them all
    assert _waiting_count(store) == 0
    assert len(_indexed_runs(store)) == MOVE_AT
    total = MOVE_AT + 40
    for i in range(MOVE_AT, total):  # 40 more wait (SQLite), newer than the moved ones
        _create(store, exp, i)
    assert _waiting_count(store) == (40 if sqlite else 0)
    query = RunQuery(experiment_id=exp, tags={"group": "g1"}, with_definition=False)
    assert _ids(store, query) == _expected(total, lambda i: i % 2 == 1)
    assert store.count_matching_runs(query) == total // 2
    # Keyset pages over both parts: every run once, newest first.
    seen: list[str] = []
    page = store.search_runs(replace(query, limit=7))
    while page:
        seen += [r.run_id for r in page]
        page = store.search_runs(replace(query, limit=7, after=RunCursor.of(page[-1])))
    assert seen == _expected(total, lambda i: i % 2 == 1)
    # An older run created late waits too, and takes its place in the order.
    _create(store, exp, -1, tags={"group": "g1"})
    oldest = replace(query, limit=3, offset=total // 2 - 2)
    assert _ids(store, oldest) == ["run-3", "run-1", "run--1"]


def test_changes_and_deletions_of_waiting_runs(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    exp = experiment.experiment_id
    for i in range(4):
        _create(store, exp, i)
    store.write_changes(WriteBatch(
        tags=[TagChange("run-0", {"group": "moved"}), TagChange("run-2", {}, remove=("group",))],
        properties=[PropertyChange("run-1", {"owner": "ana"})],
    ))  # fmt: skip
    group = RunQuery(experiment_id=exp, tags={"group": "g0"})
    assert _ids(store, group) == []  # run-0 left g0, run-2 lost the tag
    assert _ids(store, replace(group, tags={"group": "moved"})) == ["run-0"]
    assert _ids(store, RunQuery(experiment_id=exp, properties={"owner": "ana"})) == ["run-1"]
    assert _ids(store, RunQuery(experiment_id=exp, tags={"group": "g1"})) == ["run-3", "run-1"]
    store.delete_run("run-3")
    assert _ids(store, RunQuery(experiment_id=exp, tags={"group": "g1"})) == ["run-1"]
    summary = store.summarize_experiment(exp)
    assert [(k.key, k.runs) for k in summary.tags] == [("group", 2)]
    assert [(k.key, k.runs) for k in summary.properties] == [("owner", 1), ("shard", 3)]
    store.delete_experiment(exp)
    assert _waiting_count(store) == 0 and _indexed_runs(store) == set()


def test_values_keep_the_index_typing_before_and_after_the_move(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    exp = experiment.experiment_id
    typed = {"flag": True, "off": False, "n": 5, "x": 1.5, "none": None, "long": "y" * 300,
             'say "hi"': "a", "back\\slash": "b", "a.b": "c", "[0]": "d"}  # fmt: skip
    _create(store, exp, 0, properties=typed)

    def found(**properties: str) -> list[str]:
        return _ids(store, RunQuery(experiment_id=exp, properties=properties))

    for moved in (False, True):
        assert found(flag="True") == found(off="False") == ["run-0"], moved
        assert found(flag="1") == found(flag="true") == found(off="0") == [], moved
        assert found(n="5") == found(x="1.5") == ["run-0"], moved
        assert found(long="y" * 300) == ["run-0"] and found(long="y" * 301) == [], moved
        for key in ('say "hi"', "back\\slash", "a.b", "[0]"):  # keys of any spelling
            assert found(**{key: typed[key]}) == ["run-0"], (moved, key)
            assert found(**{key: "z"}) == [], (moved, key)
        summary = store.summarize_experiment(exp)
        assert {k.key for k in summary.properties} >= set(typed), moved
        if not moved:  # the write that makes MOVE_AT moves them all
            for i in range(1, MOVE_AT):
                _create(store, exp, i, properties={"other": "1"})
            assert _waiting_count(store) == 0 and "run-0" in _indexed_runs(store)


def test_closing_the_store_moves_what_it_left_waiting(store_uri: str) -> None:
    store = SqlTrackingStore(store_uri)
    exp = store.create_experiment("exp").experiment_id
    for i in range(3):
        _create(store, exp, i)
    store.close()
    reopened = SqlTrackingStore(store_uri)
    try:
        assert _waiting_count(reopened) == 0
        assert _indexed_runs(reopened) == {"run-0", "run-1", "run-2"}
        query = RunQuery(experiment_id=exp, tags={"group": "g0"})
        assert _ids(reopened, query) == ["run-2", "run-0"]
    finally:
        reopened.close()


def test_stores_sharing_a_file_count_the_waiting_runs_of_both(store_uri: str) -> None:
    """A store counts the waiting runs on its first write and whenever its own writes could
    have made :data:`MOVE_AT` since: runs another store left waiting are moved by that count,
    and runs another store moved meanwhile are not moved again."""
    first, second = SqlTrackingStore(store_uri), SqlTrackingStore(store_uri)
    try:
        exp = first.create_experiment("exp").experiment_id
        for i in range(MOVE_AT - 1):
            _create(first, exp, i)
        sqlite = store_uri.startswith("sqlite")
        assert _waiting_count(first) == (MOVE_AT - 1 if sqlite else 0)
        _create(second, exp, MOVE_AT - 1)  # its first write counts: MOVE_AT wait, all moved
        assert _waiting_count(second) == 0
        assert len(_indexed_runs(second)) == MOVE_AT
        _create(first, exp, MOVE_AT)  # the first store's count finds one run: it waits
        assert _waiting_count(first) == (1 if sqlite else 0)
        assert len(_indexed_runs(first)) == (MOVE_AT if sqlite else MOVE_AT + 1)
        query = RunQuery(experiment_id=exp, tags={"group": "g0"})
        assert _ids(first, query) == _expected(MOVE_AT + 1, lambda i: i % 2 == 0)
    finally:
        first.close()
        second.close()


FLUSH_THEN_SLEEP = """
import sys, time
from runhistory import Experiment, Workspace

run = Experiment(Workspace(path=sys.argv[1]), "killed").start_logging(outputs=False)
run.set_tags({"group": "survivor"})
run.add_properties({"seed": "7"})
run.flush()
print("FLUSHED", run.id, flush=True)
time.sleep(120)
"""


def test_waiting_keys_survive_a_killed_process(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    script = tmp_path / "killed.py"
    script.write_text(FLUSH_THEN_SLEEP)
    line, code = killed_after_first_line(script, str(folder))
    assert code == -signal.SIGKILL and line.startswith("FLUSHED"), line
    run_id = line.split()[1]
    from runhistory import Experiment, Run, Workspace

    experiment = Experiment(Workspace(path=str(folder)), "killed")
    store = experiment.workspace._connection.backend.unordered.store
    assert _waiting_count(store) == 1  # committed, still waiting: the process never closed
    found = list(Run.list(experiment, tags={"group": "survivor"}, properties={"seed": "7"}))
    assert [r.id for r in found] == [run_id]


def test_the_listing_of_waiting_runs_reads_them_by_id(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    exp = experiment.experiment_id
    creates = [RunCreate(f"old-{i}", exp, "Completed", i / 10, properties={"shard": "s1"})
               for i in range(3000)]  # fmt: skip
    store.write_changes(WriteBatch(creates=creates))  # moved at once: more than MOVE_AT
    for i in range(5):
        _create(store, exp, i)
    store._write(lambda conn: conn.exec_driver_sql("ANALYZE"))
    query = RunQuery(experiment_id=exp, properties={"shard": "s1"}, statuses=("Completed",),
                     created_after=0.5, limit=50)  # fmt: skip

    def plan(conn: Connection) -> list[str]:
        waiting = _waiting(conn, query)
        if conn.dialect.name != "sqlite":
            assert waiting == []  # PostgreSQL: nothing waits, one listing as before
            return []
        assert sorted(waiting) == ["run-1", "run-4"]
        stmt = _listing(conn, query, _select_runs(False), waiting).limit(50)
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        return [str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]

    lines = store._read(plan)
    assert not any(line.startswith("SCAN") for line in lines), lines
    assert all("runs" not in line or "(id=?)" in line for line in lines if "SEARCH" in line)
    listed = _ids(store, query)
    assert listed[:2] == ["run-4", "run-1"] and len(listed) == 50


def test_downgrading_to_0009_moves_the_waiting_keys(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from runhistory.store.sql.migrate import MIGRATIONS_DIR, upgrade_with_alembic

    def downgrade(conn: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")

    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        exp = store.create_experiment("exp").experiment_id
        for i in range(3):
            _create(store, exp, i, properties={"flag": True})
        assert _waiting_count(store) == 3
        store._write(downgrade)
        query = "SELECT run_id, kind, key, value FROM run_keys WHERE kind = 1"
        moved = store._read(lambda conn: conn.exec_driver_sql(query).fetchall())
        assert sorted(tuple(r) for r in moved) == [
            (f"run-{i}", 1, "flag", "True") for i in range(3)
        ]
        store._write(upgrade_with_alembic)
        assert _waiting_count(store) == 0
        assert _ids(store, RunQuery(experiment_id=exp, properties={"flag": "True"})) == [
            "run-2", "run-1", "run-0"
        ]  # fmt: skip
    finally:
        store.close()


WRITER = """
import sys
from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import RunCreate, WriteBatch

store = SqlTrackingStore(sys.argv[1])
experiment_id, writer = sys.argv[2], int(sys.argv[3])
for i in range(150):
    number = writer * 1000 + i
    create = RunCreate(f"w{writer}-{i}", experiment_id, "Completed", 1000.0 + number,
                       tags={"writer": str(writer), "all": "yes"}, properties={"i": str(i)})
    store.write_changes(WriteBatch(creates=[create]))
store.close()
"""


def test_processes_writing_at_once_leave_every_run_indexed_once(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    store = SqlTrackingStore(uri)
    try:
        exp = store.create_experiment("exp").experiment_id
        script = tmp_path / "writer.py"
        script.write_text(WRITER)
        writers = [
            subprocess.Popen(
                [sys.executable, str(script), uri, exp, str(w)], stderr=subprocess.PIPE, text=True
            )
            for w in range(4)
        ]
        errors = [p.communicate(timeout=300)[1] for p in writers]
        assert [p.returncode for p in writers] == [0] * 4, errors
        every = {f"w{w}-{i}" for w in range(4) for i in range(150)}
        assert _waiting_count(store) == 0  # each closed store moved what it left waiting
        assert _indexed_runs(store) == every
        counted = "SELECT count(*) FROM run_keys"
        assert store._read(lambda conn: conn.exec_driver_sql(counted).scalar_one()) == 600 * 3
        found = _ids(store, RunQuery(experiment_id=exp, tags={"all": "yes"}))
        assert len(found) == 600 and set(found) == every
        assert _ids(store, RunQuery(experiment_id=exp, tags={"writer": "2"}, limit=2)) == [
            "w2-149", "w2-148"
        ]  # fmt: skip
    finally:
        store.close()
