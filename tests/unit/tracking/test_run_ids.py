"""Run ids keep the original SDK's shape and never clash in practice (issue 11, finding 6).

Ids were ``<experiment>_<unix second>_<8 hex>``: 32 random bits among the runs of one second,
so one run in 50,000 made at ~5,600 runs/s was refused. Now 64 random bits; and a clash with
an id the store already has never loses a run the service names.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runhistory import Experiment, Run, Workspace
from runhistory.artifacts import open_artifact_store
from runhistory.errors import ConflictError
from runhistory.store.sql import open_store
from runhistory.tracking import run_records as runs
from runhistory.tracking.service import TrackingService

SHAPE = re.compile(r"^mnist_(\d+)_([0-9a-f]{16})$")


def test_ids_keep_the_original_shape() -> None:
    found = SHAPE.match(runs.new_run_id("mnist"))
    assert found is not None
    assert found.group(1).isdigit()


def test_ids_made_in_one_second_never_clash(monkeypatch: pytest.MonkeyPatch) -> None:
    # 200,000 ids in one second: with 32 random bits a clash is all but certain (p > 0.99).
    monkeypatch.setattr(runs.time, "time", lambda: 1_800_000_000.5)
    made = [runs.new_run_id("mnist") for _ in range(200_000)]
    assert len(set(made)) == len(made)
    assert all(i.startswith("mnist_1800000000_") for i in made[:10])


def test_fifty_thousand_runs_made_quickly_are_all_stored(tmp_path: Path) -> None:
    workspace = Workspace(path=tmp_path / "ws")
    experiment = Experiment(workspace, "many-runs")
    parent = experiment.start_logging(outputs=False)
    children = parent.create_children(count=50_000)
    parent.complete()
    assert len({c.id for c in children}) == 50_000
    stored = list(Run.list(experiment, include_children=True))
    assert len(stored) == 50_001


def test_a_clash_with_a_stored_id_never_loses_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = TrackingService(
        open_store(f"sqlite:///{tmp_path / 'ids.db'}"), open_artifact_store(str(tmp_path / "f"))
    )
    experiment = service.get_or_create_experiment("ids")
    draws = iter([b"\x01" * 8, b"\x01" * 8, b"\x02" * 8])
    monkeypatch.setattr(runs.os, "urandom", lambda n: next(draws)[:n])
    first = service.create_run(experiment.experiment_id, status="Running")
    second = service.create_run(experiment.experiment_id, status="Running")  # drew the same id
    assert first.run_id != second.run_id
    assert second.run_id.endswith("02" * 8)
    stored = service.search_runs(experiment_id=experiment.experiment_id)
    assert {r.run_id for r in stored} == {first.run_id, second.run_id}
    service.close()


def test_a_run_written_behind_that_clashes_costs_no_other_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK makes the id of a run written behind; should it exist already (here: forced),
    only that run is refused — its complete() says so — and the batch's other runs are kept."""
    workspace = Workspace(path=tmp_path / "ws")
    experiment = Experiment(workspace, "ids")
    monkeypatch.setattr(runs.time, "time", lambda: 1_800_000_000.0)
    monkeypatch.setattr(runs.os, "urandom", lambda n: b"\x07" * n)
    first = experiment.start_logging(outputs=False)
    first.complete()
    clashing = experiment.start_logging(outputs=False)  # the same id again
    monkeypatch.setattr(runs.os, "urandom", lambda n: b"\x08" * n)
    other = experiment.start_logging(outputs=False)  # queued in the same batch
    clashing.log("lost", 1.0)
    other.log("kept", 2.0)
    other.complete()
    with pytest.raises(ConflictError, match="already exists"):
        clashing.complete()
    assert Run.get(workspace, other.id).get_metrics() == {"kept": 2.0}
    assert Run.get(workspace, first.id).get_status() == "Completed"
