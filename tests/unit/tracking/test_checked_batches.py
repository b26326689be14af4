"""Batches the SDK's queue checked are not checked again; every other batch still is.

The queue marks its batches ``checked`` (the SDK checked each creation, tag and property
change when it was made); a batch without the mark (a server's client, the MLflow API) is
checked by the service as before, and a piece split off a refused batch is checked again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runhistory.artifacts import open_artifact_store
from runhistory.client.batches import changes_batch
from runhistory.errors import ValidationError
from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.change_pieces import by_run, single_changes
from runhistory.tracking.entities import PropertyChange, RunChanges, RunCreate, TagChange
from runhistory.tracking.service import TrackingService


@pytest.fixture
def service(tmp_path: Path) -> TrackingService:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'store.db'}")
    return TrackingService(store, open_artifact_store(str(tmp_path / "files")))


def _create(service: TrackingService, run_id: str) -> RunCreate:
    experiment = service.store.create_experiment("checked")
    return RunCreate(run_id, experiment.experiment_id, "Running", 1000.0)


def test_the_queue_marks_its_batches_checked_and_split_pieces_are_not() -> None:
    create = RunCreate("run-1", "exp", "Running", 1000.0)
    batch = changes_batch([create, TagChange("run-1", {"a": "1"})], {})
    assert batch.checked
    pieces = [piece for _, mine in by_run(batch) for piece in single_changes(mine)]
    assert pieces and not any(piece.checked for piece in pieces)


def test_an_unmarked_batch_is_checked(service: TrackingService) -> None:
    create = _create(service, "run-1")
    bad = RunChanges(creates=[create], tags=[TagChange("run-1", {"": "empty key"})])
    with pytest.raises(ValidationError):
        service.write_changes(bad)
    bad_property = RunChanges(creates=[create], properties=[PropertyChange("run-1", {"k": 5})])  # type: ignore[dict-item]
    service.write_changes(bad_property)  # a number becomes a string, as in create_run
    assert service.store.get_run("run-1").properties == {"k": "5"}


def test_a_marked_batch_is_stored_as_given(service: TrackingService) -> None:
    create = _create(service, "run-1")
    tags = TagChange("run-1", {"group": "g1", "flag": None})
    properties = PropertyChange("run-1", {"seed": "7"})
    service.write_changes(RunChanges([create], [tags], [properties], checked=True))
    stored = service.store.get_run("run-1")
    assert stored.tags == {"group": "g1", "flag": None}
    assert stored.properties == {"seed": "7"}


def test_a_marked_batch_under_other_value_limits_is_checked(service: TrackingService) -> None:
    create = _create(service, "run-1")
    long = TagChange("run-1", {"note": "x" * 50})
    changes = RunChanges([create], [long], checked=True)
    with pytest.raises(ValidationError):
        service.write_changes(changes, tag_value_limit=10)
