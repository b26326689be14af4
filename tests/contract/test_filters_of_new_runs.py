"""Tag and property filters find a run as soon as it is created, on every storage.

On SQLite the keys of new runs wait before they join the filters' index (``run_keys``) in bulk;
on PostgreSQL they are indexed at once. Either way a listing filtered on a tag or property
value, its count and the experiment's key summary see every run created, before and after the
bulk move, and follow tag changes of runs whose keys still wait.
"""

from __future__ import annotations

import pytest

from runhistory import Experiment, Run
from runhistory.store.sql._run_keys import MOVE_AT
from support.services import ALL_STORAGES


@pytest.fixture(params=ALL_STORAGES)
def backend_name(request: pytest.FixtureRequest) -> str:
    """Every storage: embedded SQLite and PostgreSQL, servers on SQLite and PostgreSQL."""
    return str(request.param)


def _ids(runs: object) -> list[str]:
    return [r.id for r in runs]  # type: ignore[attr-defined]


def test_a_new_run_is_found_at_once_and_follows_its_tag_changes(experiment: Experiment) -> None:
    older = experiment.start_logging(snapshot_directory=None)
    older.set_tags({"group": "a"})
    older.complete()
    run = experiment.start_logging(snapshot_directory=None)
    run.set_tags({"group": "a", "stage": "train"})
    run.add_properties({"seed": "7"})
    assert _ids(experiment.get_runs(tags={"group": "a"})) == [run.id, older.id]
    assert _ids(experiment.get_runs(tags={"group": "a"}, properties={"seed": "7"})) == [run.id]
    run.set_tags({"group": "b"})
    run.remove_tags(["stage"])
    assert _ids(experiment.get_runs(tags={"group": "a"})) == [older.id]
    assert _ids(experiment.get_runs(tags={"group": "b"})) == [run.id]
    assert _ids(experiment.get_runs(tags={"stage": "train"})) == []
    assert _ids(Run.list(experiment, properties={"seed": "7"}, status="Running")) == [run.id]
    run.complete()
    assert _ids(Run.list(experiment, properties={"seed": "7"}, status="Completed")) == [run.id]


def test_filters_and_counts_hold_across_the_bulk_move(experiment: Experiment) -> None:
    made: list[str] = []
    for i in range(MOVE_AT + 20):  # on SQLite: one bulk move, then 20 runs wait again
        run = experiment.start_logging(snapshot_directory=None)
        run.set_tags({"parity": "odd" if i % 2 else "even"})
        run.add_properties({"block": str(i // 100)})
        run.complete()
        made.append(run.id)
    newest_first = list(reversed(made))
    assert _ids(experiment.get_runs(tags={"parity": "odd"})) == newest_first[::2]
    block = _ids(experiment.get_runs(tags={"parity": "even"}, properties={"block": "2"}))
    assert block == [r for i, r in enumerate(made) if i // 100 == 2 and i % 2 == 0][::-1]
    backend = experiment.workspace._connection.backend
    counted = backend.count_matching_runs(experiment_id=experiment.id, tags={"parity": "odd"})
    assert counted == (MOVE_AT + 20) // 2
    summary = backend.summarize_experiment(experiment.id)
    assert [(k.key, k.runs) for k in summary.tags] == [("parity", MOVE_AT + 20)]
    assert [(k.key, k.runs) for k in summary.properties] == [("block", MOVE_AT + 20)]
