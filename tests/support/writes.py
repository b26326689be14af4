"""Single writes to a store, as batches of one (the store has one write path: write_changes).

The tests of the SQL store call these where a test makes one change; they build the
:class:`~runhistory.tracking.entities.WriteBatch` the service would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runhistory.store.base import TrackingStore
from runhistory.tracking.entities import (
    MetricWrite,
    PropertyChange,
    RunCreate,
    RunInfo,
    RunUpdate,
    StatusWrite,
    TagChange,
    WriteBatch,
    WriteOutcome,
)


def create_run(
    store: TrackingStore,
    run_id: str,
    experiment_id: str,
    status: str,
    created_time: float,
    **fields: Any,
) -> RunInfo:
    """Create one run (``fields``: the other ``RunCreate`` fields) and read it back."""
    create = RunCreate(run_id, experiment_id, status, created_time, **fields)
    store.write_changes(WriteBatch(creates=[create]))
    return store.get_run(run_id)


def log_metrics(
    store: TrackingStore, run_id: str, writes: Sequence[MetricWrite], batch_id: str | None = None
) -> bool:
    """Append points to one run; False when ``batch_id`` was stored before."""
    batch_ids = {run_id: batch_id} if batch_id is not None else {}
    outcome = store.write_changes(WriteBatch(metrics={run_id: writes}, batch_ids=batch_ids))
    return run_id not in outcome.repeated


def update_run(store: TrackingStore, run_id: str, **fields: Any) -> RunInfo:
    """Overwrite fields of one run and read it back."""
    store.write_changes(WriteBatch(updates=[RunUpdate(run_id, fields)]))
    return store.get_run(run_id)


def set_status(
    store: TrackingStore, run_id: str, expected: Sequence[str], status: str, **fields: Any
) -> RunInfo | None:
    """Compare-and-set a run's status: the run, or None when it was not in ``expected``."""
    write = StatusWrite(run_id, tuple(expected), status, fields)
    if store.write_changes(WriteBatch(statuses=[write])).refusals:
        return None
    return store.get_run(run_id)


def change_tags(
    store: TrackingStore,
    run_id: str,
    set_tags: dict[str, str | None] | None = None,
    remove: Sequence[str] = (),
) -> None:
    """Set, then remove, tags of one run."""
    store.write_changes(WriteBatch(tags=[TagChange(run_id, set_tags or {}, tuple(remove))]))


def add_properties(store: TrackingStore, run_id: str, properties: dict[str, str]) -> WriteOutcome:
    """Add properties to one run (all or none); the outcome holds a refusal on a clash."""
    return store.write_changes(WriteBatch(properties=[PropertyChange(run_id, properties)]))
