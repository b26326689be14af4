"""SqlTrackingStore: experiments, runs and run search, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from runhistory.errors import ConflictError, NotFoundError, ValidationError
from runhistory.store.base import TrackingStore
from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import VTYPE_FLOAT, ExperimentInfo, MetricWrite, RunInfo, RunQuery
from support import writes

MakeRun = Callable[..., RunInfo]


def scalar(name: str, value: float) -> MetricWrite:
    return MetricWrite(name, "scalar", [(None, VTYPE_FLOAT, value, None, 1.0)])


def test_is_a_tracking_store(store: SqlTrackingStore) -> None:
    assert isinstance(store, TrackingStore)


# ---- experiments ---------------------------------------------------------------------------
def test_create_and_get_experiment(store: SqlTrackingStore) -> None:
    created = store.create_experiment("mnist", tags={"team": "vision", "flag": None})
    assert len(created.experiment_id) == 32
    assert created.name == "mnist"
    assert created.archived_time is None
    assert created.tags == {"team": "vision", "flag": None}
    assert store.get_experiment(created.experiment_id) == created
    assert store.get_experiment_by_name("mnist") == created


def test_missing_experiment_is_not_found(store: SqlTrackingStore) -> None:
    with pytest.raises(NotFoundError, match="no experiment with id 'nope'"):
        store.get_experiment("nope")
    with pytest.raises(NotFoundError, match="'nope'"):
        store.get_experiment_by_name("nope")
    with pytest.raises(NotFoundError):
        store.update_experiment("nope", name="x")
    with pytest.raises(NotFoundError):
        store.set_experiment_tags("nope", {"a": "b"})
    with pytest.raises(NotFoundError):
        store.delete_experiment("nope")


def test_active_name_is_unique_archived_names_are_not(store: SqlTrackingStore) -> None:
    first = store.create_experiment("exp")
    with pytest.raises(ConflictError, match="'exp'"):
        store.create_experiment("exp")
    store.update_experiment(first.experiment_id, archived_time=100.0)
    second = store.create_experiment("exp")
    store.update_experiment(second.experiment_id, archived_time=200.0)
    third = store.create_experiment("exp")
    assert store.get_experiment_by_name("exp") == third
    assert store.get_experiment_by_name("exp", archived=True).experiment_id == second.experiment_id
    with pytest.raises(ConflictError):  # reactivating would give two active "exp"
        store.update_experiment(first.experiment_id, archived_time=None)


def test_update_experiment(store: SqlTrackingStore) -> None:
    created = store.create_experiment("old")
    renamed = store.update_experiment(created.experiment_id, name="new")
    assert renamed.name == "new" and renamed.archived_time is None
    archived = store.update_experiment(created.experiment_id, archived_time=5.0)
    assert archived.name == "new" and archived.archived_time == 5.0
    assert store.update_experiment(created.experiment_id, archived_time=None).archived_time is None
    store.create_experiment("taken")
    with pytest.raises(ConflictError):
        store.update_experiment(created.experiment_id, name="taken")
    assert store.update_experiment(created.experiment_id) == store.get_experiment(
        created.experiment_id
    )


def test_list_experiments_by_view_type(store: SqlTrackingStore) -> None:
    active = store.create_experiment("a")
    archived = store.create_experiment("b")
    store.update_experiment(archived.experiment_id, archived_time=1.0)

    def names(**kwargs: str) -> list[str]:
        return [e.name for e in store.list_experiments(**kwargs)]

    assert names() == ["a"]
    assert names(view_type="ArchivedOnly") == ["b"]
    assert names(view_type="All") == ["a", "b"]
    assert names(name="b", view_type="All") == ["b"]
    assert store.list_experiments(name="a")[0] == active
    with pytest.raises(ValidationError):
        store.list_experiments(view_type="Everything")


def test_experiment_tags(store: SqlTrackingStore) -> None:
    exp = store.create_experiment("e", tags={"a": "1"})
    store.set_experiment_tags(exp.experiment_id, {"a": "2", "b": None})
    assert store.get_experiment(exp.experiment_id).tags == {"a": "2", "b": None}
    store.remove_experiment_tags(exp.experiment_id, ["a", "missing"])
    assert store.get_experiment(exp.experiment_id).tags == {"b": None}


def test_delete_experiment_removes_everything(
    store: SqlTrackingStore, experiment: ExperimentInfo, make_run: MakeRun
) -> None:
    make_run("r1", tags={"t": "v"}, properties={"p": "v"})
    make_run("c1", parent_run_id="r1")
    writes.log_metrics(store, "c1", [scalar("m", 1.0)], batch_id="b")
    store.put_file_entry("r1", "outputs/a.txt", 3, "0" * 64, 1.0)
    other = store.create_experiment("other")
    writes.create_run(store, "keep", other.experiment_id, "Running", 1.0)
    store.delete_experiment(experiment.experiment_id)
    with pytest.raises(NotFoundError):
        store.get_experiment(experiment.experiment_id)
    for run_id in ("r1", "c1"):
        with pytest.raises(NotFoundError):
            store.get_run(run_id)
    assert store.get_run("keep").experiment_id == other.experiment_id
    make_again = store.create_experiment("exp")
    assert writes.create_run(store, "r1", make_again.experiment_id, "Running", 1.0).number == 1


# ---- runs ----------------------------------------------------------------------------------
def test_create_and_get_run(
    store: SqlTrackingStore, experiment: ExperimentInfo, make_run: MakeRun
) -> None:
    run = make_run(
        "run-1",
        created_time=10.5,
        display_name="first",
        description="d",
        run_type="azureml.scriptrun",
        target="ray",
        submitted_by="me",
        tags={"a": "1", "b": None},
        properties={"p": "x"},
    )
    assert run.run_id == "run-1"
    assert run.experiment_id == experiment.experiment_id
    assert run.experiment_name == "exp"
    assert (run.number, run.status, run.created_time) == (1, "Running", 10.5)
    assert (run.parent_run_id, run.root_run_id) == (None, None)
    assert (run.display_name, run.description, run.submitted_by) == ("first", "d", "me")
    assert (run.run_type, run.target) == ("azureml.scriptrun", "ray")
    assert run.tags == {"a": "1", "b": None} and run.properties == {"p": "x"}
    assert store.get_run("run-1") == run
    assert store.get_experiment(experiment.experiment_id).last_activity_time == 10.5


def test_create_run_errors(store: SqlTrackingStore, make_run: MakeRun) -> None:
    make_run("r")
    with pytest.raises(ConflictError, match="'r'"):
        make_run("r")
    with pytest.raises(NotFoundError, match="no experiment with id 'nope'"):
        make_run("x", experiment_id="nope")
    with pytest.raises(NotFoundError, match="'ghost'"):
        make_run("y", parent_run_id="ghost")
    with pytest.raises(NotFoundError, match="no run with id 'missing'"):
        store.get_run("missing")


def test_run_numbers_count_up_per_experiment(store: SqlTrackingStore, make_run: MakeRun) -> None:
    numbers = [make_run(f"r{i}", parent_run_id="r0" if i else None).number for i in range(5)]
    assert numbers == [1, 2, 3, 4, 5]
    other = store.create_experiment("other")
    assert writes.create_run(store, "o", other.experiment_id, "Running", 1.0).number == 1
    store.delete_run("r4")
    assert make_run("r5").number == 6  # numbers are never reused


def test_root_run_id_comes_from_the_parent(make_run: MakeRun) -> None:
    make_run("root")
    assert make_run("child", parent_run_id="root").root_run_id == "root"
    grandchild = make_run("grandchild", parent_run_id="child")
    assert (grandchild.parent_run_id, grandchild.root_run_id) == ("child", "root")


def test_update_run(store: SqlTrackingStore, make_run: MakeRun) -> None:
    make_run("r")
    definition = {"script": "train.py", "arguments": ["--lr", 0.1]}
    updated = writes.update_run(
        store, "r", heartbeat_time=1.5, display_name="n", description="d", snapshot_id="snap",
        run_definition=definition, target="ray",
    )  # fmt: skip
    assert (updated.heartbeat_time, updated.snapshot_id, updated.target) == (1.5, "snap", "ray")
    assert (updated.display_name, updated.description) == ("n", "d")
    assert updated.run_definition == definition
    assert store.get_run("r") == updated
    assert writes.update_run(store, "r", display_name=None).display_name is None
    with pytest.raises(ValidationError, match="number"):
        writes.update_run(store, "r", number=7)
    with pytest.raises(NotFoundError):
        writes.update_run(store, "missing", target="x")


def test_compare_and_set_status(store: SqlTrackingStore, make_run: MakeRun) -> None:
    make_run("r", start_time=0.5)
    error = {"error": {"code": "UserError", "message": "boom", "details": [1, 2.5, None]}}
    done = writes.set_status(
        store, "r", ["Running"], "Failed", start_time=1.0, end_time=3.0, error=error
    )
    assert done is not None and (done.status, done.end_time) == ("Failed", 3.0)
    assert done.start_time == 0.5  # a run starts once
    assert done.error == error
    assert writes.set_status(store, "r", ["Running", "Queued"], "Completed") is None
    assert writes.set_status(store, "r", [], "Completed") is None
    assert store.get_run("r").status == "Failed"
    with pytest.raises(NotFoundError):
        writes.set_status(store, "missing", ["Running"], "Failed")


def test_run_tags_and_properties(store: SqlTrackingStore, make_run: MakeRun) -> None:
    make_run("r", tags={"a": "1"}, properties={"p": "1"})
    writes.change_tags(store, "r", {"a": "2", "b": None})
    writes.change_tags(store, "r", remove=["missing"])
    assert store.get_run("r").tags == {"a": "2", "b": None}
    writes.change_tags(store, "r", remove=["a"])
    assert store.get_run("r").tags == {"b": None}
    refused = writes.add_properties(store, "r", {"p": "other", "q": "2"}).refusals
    assert [(r.key, r.current, r.wanted) for r in refused] == [("p", "1", "other")]
    assert store.get_run("r").properties == {"p": "1"}  # all or none
    assert not writes.add_properties(store, "r", {"p": "1", "q": "2"}).refusals
    assert store.get_run("r").properties == {"p": "1", "q": "2"}
    for call in (
        lambda: writes.change_tags(store, "missing", {"a": "b"}),
        lambda: writes.change_tags(store, "missing", remove=["a"]),
        lambda: writes.add_properties(store, "missing", {"a": "b"}),
    ):
        with pytest.raises(NotFoundError, match="no run with id 'missing'"):
            call()


def test_count_runs(store: SqlTrackingStore, experiment: ExperimentInfo, make_run: MakeRun) -> None:
    assert store.count_runs(experiment.experiment_id) == 0
    make_run("a")
    make_run("b", parent_run_id="a")
    assert store.count_runs(experiment.experiment_id) == 2
    with pytest.raises(NotFoundError):
        store.count_runs("nope")


def test_delete_run_deletes_descendants(store: SqlTrackingStore, make_run: MakeRun) -> None:
    make_run("keep")
    make_run("root", tags={"t": "1"})
    make_run("child", parent_run_id="root")
    make_run("grandchild", parent_run_id="child", properties={"p": "1"})
    writes.log_metrics(store, "grandchild", [scalar("m", 1.0)], batch_id="b1")
    store.put_file_entry("child", "f", 1, "0" * 64, 1.0)
    store.delete_run("child")
    assert [r.run_id for r in store.search_runs(RunQuery())] == ["root", "keep"]
    store.delete_run("root")
    assert [r.run_id for r in store.search_runs(RunQuery())] == ["keep"]
    make_run("grandchild")  # the id is free again, with no metrics left behind
    assert store.get_metric_infos("grandchild") == []
    assert writes.log_metrics(store, "grandchild", [scalar("m", 2.0)], batch_id="b1") is True
    with pytest.raises(NotFoundError):
        store.delete_run("root")


# ---- search --------------------------------------------------------------------------------
@pytest.fixture
def family(store: SqlTrackingStore, experiment: ExperimentInfo, make_run: MakeRun) -> None:
    """Runs a (t=1), b (t=2), c (t=3) with a's children a1, a2 and grandchild a11."""
    make_run("a", created_time=1.0, tags={"team": "x", "flag": None}, properties={"v": "1"})
    make_run("b", created_time=2.0, tags={"team": "y"}, run_type="sweep", status="Completed")
    make_run("c", created_time=3.0, properties={"v": "2"})
    make_run("a1", parent_run_id="a", created_time=4.0, tags={"team": "x"})
    make_run("a2", parent_run_id="a", created_time=4.0, status="Failed")
    make_run("a11", parent_run_id="a1", created_time=5.0)
    other = store.create_experiment("other")
    writes.create_run(store, "z", other.experiment_id, "Running", 0.5, tags={"team": "x"})


def _ids(store: SqlTrackingStore, **query: object) -> list[str]:
    return [run.run_id for run in store.search_runs(RunQuery(**query))]  # type: ignore[arg-type]


@pytest.mark.usefixtures("family")
def test_search_newest_first_including_children(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    # a2 and a1 share created_time: the higher number (a2, created later) comes first.
    assert _ids(store, experiment_id=experiment.experiment_id) == [
        "a11", "a2", "a1", "c", "b", "a",
    ]  # fmt: skip
    assert _ids(store) == ["a11", "a2", "a1", "c", "b", "a", "z"]


@pytest.mark.usefixtures("family")
def test_search_top_level_and_tree_filters(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    eid = experiment.experiment_id
    assert _ids(store, experiment_id=eid, include_children=False) == ["c", "b", "a"]
    assert _ids(store, parent_run_id="a", include_children=False) == ["a2", "a1"]
    assert _ids(store, root_run_id="a", include_children=False) == ["a11", "a2", "a1"]
    assert _ids(store, parent_run_id="a1") == ["a11"]


@pytest.mark.usefixtures("family")
def test_search_by_type_status_tags_properties(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    eid = experiment.experiment_id
    assert _ids(store, experiment_id=eid, run_type="sweep") == ["b"]
    assert _ids(store, experiment_id=eid, statuses=("Completed", "Failed")) == ["a2", "b"]
    assert _ids(store, experiment_id=eid, statuses=()) == []
    assert _ids(store, experiment_id=eid, tags={"team": "x"}) == ["a1", "a"]
    assert _ids(store, tags={"team": "x"}, include_children=False) == ["a", "z"]
    assert _ids(store, tags={"flag": None}) == ["a"]
    assert _ids(store, tags={"team": None, "flag": None}) == ["a"]
    assert _ids(store, tags={"team": "nope"}) == []
    assert _ids(store, properties={"v": None}) == ["c", "a"]
    assert _ids(store, properties={"v": "2"}) == ["c"]
    assert _ids(store, tags={"team": "x"}, properties={"v": "1"}) == ["a"]


@pytest.mark.usefixtures("family")
def test_search_pages(store: SqlTrackingStore, experiment: ExperimentInfo) -> None:
    eid = experiment.experiment_id
    assert _ids(store, experiment_id=eid, limit=2) == ["a11", "a2"]
    assert _ids(store, experiment_id=eid, limit=2, offset=2) == ["a1", "c"]
    assert _ids(store, experiment_id=eid, offset=5) == ["a"]
    page = store.search_runs(RunQuery(experiment_id=eid, include_children=False, limit=3))
    assert [(r.tags, r.properties) for r in page] == [
        ({}, {"v": "2"}), ({"team": "y"}, {}), ({"team": "x", "flag": None}, {"v": "1"}),
    ]  # fmt: skip


def test_search_matches_long_tag_values(store: SqlTrackingStore, make_run: MakeRun) -> None:
    long_value = "x" * 5000
    make_run("long", tags={"note": long_value})
    make_run("prefix", tags={"note": long_value[:-1] + "y"})
    assert _ids(store, tags={"note": long_value}) == ["long"]
    assert store.get_run("long").tags == {"note": long_value}


@pytest.mark.slow
def test_search_is_fast_with_10000_runs(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    from sqlalchemy import insert

    from runhistory.store.sql.schema import runs

    rows = [
        {
            "id": f"run{i:05d}", "experiment_id": experiment.experiment_id, "number": i + 1,
            "status": "Completed", "created_time": float(i), "run_type": "experimentrun",
            "target": "local", "tags": {"mod": str(i % 10)},
        }
        for i in range(10_000)
    ]  # fmt: skip
    with store._engine.begin() as conn:
        conn.execute(insert(runs), rows)
    started = time.perf_counter()
    page = store.search_runs(RunQuery(experiment_id=experiment.experiment_id, limit=50))
    filtered = store.search_runs(RunQuery(tags={"mod": "3"}, limit=50, offset=100))
    everything = store.search_runs(RunQuery(experiment_id=experiment.experiment_id))
    elapsed = time.perf_counter() - started
    assert page[0].run_id == "run09999" and len(page) == 50
    assert filtered[0].run_id == "run08993" and all(r.tags == {"mod": "3"} for r in filtered)
    assert len(everything) == 10_000 and everything[-1].tags == {"mod": "0"}
    assert elapsed < 10, f"searching 10,000 runs took {elapsed:.1f} s"
