"""Short runs (created, tagged, given properties and single-point metrics, finished in one
batch): what the server stores for each, alone or grouped with others, on SQLite and on
PostgreSQL (where such a batch goes out as one statement after its run numbers).

Several processes write into one experiment at once; a batch that cannot be stored (its
run stored before) costs the other runs of its group nothing.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from runhistory.errors import RunhistoryError
from runhistory.server.config import ServerSettings, open_services
from runhistory.tracking.entities import (
    MetricWrite,
    PropertyChange,
    RunChanges,
    RunCreate,
    StatusChange,
    TagChange,
)
from runhistory.tracking.service import TrackingService
from support.services import postgres_database

STORES = ["sqlite", "postgresql"]
PROCESSES, GROUPS, PER_GROUP = 4, 6, 3


def _settings(uri: str, folder: Path) -> ServerSettings:
    return ServerSettings(backend_store_uri=uri, artifact_location=str(folder / "artifacts"))


@pytest.fixture(params=STORES)
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "ws")
        return
    with postgres_database("rh_short") as database:
        yield database


@pytest.fixture
def service(store_uri: str, tmp_path: Path) -> Iterator[TrackingService]:
    services = open_services(_settings(store_uri, tmp_path))
    try:
        yield services.tracking
    finally:
        services.close()


def _short(run_id: str, experiment_id: str, loss: float = 0.5) -> RunChanges:
    """A B3-like run: 2 tags, 2 properties, 2 single-point metrics, completed."""
    now = time.time()

    def point(value: float) -> MetricWrite:
        return MetricWrite.from_columns("m", "scalar", ([0], [0], [value], [None], [now]))

    loss_write = MetricWrite.from_columns("loss", "scalar", ([0], [0], [loss], [None], [now]))
    return RunChanges(
        creates=[RunCreate(run_id, experiment_id, "Running", now, start_time=now,
                           run_definition={"environment": {"python": "3"}, "script": "x.py"})],
        tags=[TagChange(run_id, {"kind": "short", "who": run_id})],
        properties=[PropertyChange(run_id, {"seed": "1", "lr": "0.1"})],
        metrics={run_id: [point(2.0), loss_write]},
        statuses=[StatusChange(run_id, "Completed", now)],
    )  # fmt: skip


def _check_stored(service: TrackingService, run_id: str, loss: float = 0.5) -> None:
    run = service.get_run(run_id)
    assert run.status == "Completed"
    assert run.tags == {"kind": "short", "who": run_id}
    assert run.properties == {"seed": "1", "lr": "0.1"}
    assert run.run_definition == {"environment": {"python": "3"}, "script": "x.py"}
    assert service.store.get_metric_columns(run_id, "m").values == [2.0]
    assert service.store.get_metric_columns(run_id, "loss").values == [loss]


def test_a_short_run_is_stored_whole_and_once(service: TrackingService) -> None:
    experiment = service.get_or_create_experiment("short").experiment_id
    batch = uuid.uuid4().hex
    assert service.write_changes_apart(_short("one", experiment), batch) == []
    assert service.write_changes_apart(_short("one", experiment), batch) == []  # a retry
    _check_stored(service, "one")
    found = service.search_runs(experiment_id=experiment, properties={"lr": "0.1"})
    assert [r.run_id for r in found] == ["one"]  # its keys are indexed
    assert service.get_run("one").number == 1


def test_a_group_of_short_runs_is_stored_whole(service: TrackingService) -> None:
    experiment = service.get_or_create_experiment("short").experiment_id
    group = [(_short(f"r{n}", experiment), uuid.uuid4().hex) for n in range(5)]
    assert service.write_changes_together(group) == [[]] * 5
    assert service.write_changes_together(group) == [[]] * 5  # the whole request retried
    for n in range(5):
        _check_stored(service, f"r{n}")
    assert sorted(service.get_run(f"r{n}").number for n in range(5)) == [1, 2, 3, 4, 5]


def test_a_failing_batch_costs_the_others_of_its_group_nothing(service: TrackingService) -> None:
    experiment = service.get_or_create_experiment("short").experiment_id
    assert service.write_changes_apart(_short("taken", experiment), uuid.uuid4().hex) == []
    group = [
        (_short("a", experiment), uuid.uuid4().hex),
        (_short("taken", experiment), uuid.uuid4().hex),  # its run exists: refused
        (_short("b", experiment, loss=0.25), uuid.uuid4().hex),
        (_short("c", experiment), uuid.uuid4().hex),
    ]
    errors = service.write_changes_together(group)
    assert errors[0] == [] and errors[2] == [] and errors[3] == []
    assert [e.fields.get("run_id") for e in errors[1]] == ["taken"]
    for run_id in ("a", "c", "taken"):
        _check_stored(service, run_id)
    _check_stored(service, "b", loss=0.25)
    numbers = [service.get_run(r).number for r in ("taken", "a", "b", "c")]
    assert len(set(numbers)) == 4 and numbers[0] == 1


def _write_groups(uri: str, folder: str, experiment: str, index: int) -> list[str]:
    services = open_services(_settings(uri, Path(folder)))
    try:
        errors: list[RunhistoryError] = []
        for g in range(GROUPS):
            group = [(_short(f"p{index}-g{g}-r{n}", experiment), uuid.uuid4().hex)
                     for n in range(PER_GROUP)]  # fmt: skip
            for found in services.tracking.write_changes_together(group):
                errors.extend(found)
        return [e.message for e in errors]
    finally:
        services.close()


def test_processes_writing_groups_into_one_experiment(
    service: TrackingService, store_uri: str, tmp_path: Path
) -> None:
    experiment = service.get_or_create_experiment("shared").experiment_id
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        errors = pool.starmap(
            _write_groups, [(store_uri, str(tmp_path), experiment, i) for i in range(PROCESSES)]
        )
    assert errors == [[]] * PROCESSES
    total = PROCESSES * GROUPS * PER_GROUP
    assert len(service.search_runs(experiment_id=experiment)) == total
    numbers = {}
    for i in range(PROCESSES):
        for g in range(GROUPS):
            for n in range(PER_GROUP):
                run_id = f"p{i}-g{g}-r{n}"
                _check_stored(service, run_id)
                numbers[run_id] = service.get_run(run_id).number
    assert sorted(numbers.values()) == list(range(1, total + 1))  # distinct, no gap
    for i in range(PROCESSES):  # each process's runs numbered in its creation order
        mine = [numbers[f"p{i}-g{g}-r{n}"] for g in range(GROUPS) for n in range(PER_GROUP)]
        assert mine == sorted(mine)
