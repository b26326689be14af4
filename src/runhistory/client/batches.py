"""Building the writer's batches, and splitting a refused one so one bad change costs nothing
else: first into the changes of each run, then a run's into single changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter

from runhistory.tracking.entities import (
    MetricWrite,
    PropertyChange,
    RunChanges,
    RunCreate,
    StatusChange,
    TagChange,
)

# (metric key, step, vtype, number, text, time); the key stands for (run, name, kind, description)
QueueItem = tuple[int, int | None, int, float | None, str | None, float]
MetricKey = tuple[str, str, str, str]
RunChange = RunCreate | TagChange | PropertyChange | StatusChange

_by_key = itemgetter(0)


def group_writes(batch: list[QueueItem], keys: Sequence[MetricKey]) -> dict[str, list[MetricWrite]]:
    """Group queued values into one ``MetricWrite`` per (run, metric), keeping their order."""
    batch.sort(key=_by_key)  # stable: values of one metric keep their order
    grouped: dict[str, list[MetricWrite]] = {}
    for key, items in groupby(batch, _by_key):
        run_id, name, kind, description = keys[key]
        _, *columns = zip(*items, strict=True)
        write = MetricWrite.from_columns(name, kind, tuple(columns), description)  # type: ignore[arg-type]
        grouped.setdefault(run_id, []).append(write)
    return grouped


def changes_batch(
    changes: Sequence[RunChange], metrics: dict[str, list[MetricWrite]]
) -> RunChanges:
    """Sort queued run changes into one :class:`RunChanges` batch, keeping their order."""
    batch = RunChanges(metrics=metrics)
    for change in changes:
        if type(change) is RunCreate:
            batch.creates.append(change)
        elif type(change) is TagChange:
            batch.tags.append(change)
        elif type(change) is PropertyChange:
            batch.properties.append(change)
        else:
            assert type(change) is StatusChange
            batch.statuses.append(change)
    return batch


def by_run(whole: RunChanges) -> list[tuple[str, RunChanges]]:
    """A batch as the changes of each run, runs in the order they first appear (so a parent
    created in the batch comes before its children)."""
    pieces: dict[str, RunChanges] = {run_id: RunChanges() for run_id in whole.run_ids()}
    for create in whole.creates:
        pieces[create.run_id].creates.append(create)
    for update in whole.updates:
        pieces[update.run_id].updates.append(update)
    for tags in whole.tags:
        pieces[tags.run_id].tags.append(tags)
    for properties in whole.properties:
        pieces[properties.run_id].properties.append(properties)
    for run_id, writes in whole.metrics.items():
        pieces[run_id].metrics[run_id] = writes
    for status in whole.statuses:
        pieces[status.run_id].statuses.append(status)
    return list(pieces.items())


def single_changes(mine: RunChanges) -> list[RunChanges]:
    """One run's changes one by one (each metric write alone), in their order of effect."""
    return [
        *(RunChanges(creates=[c]) for c in mine.creates),
        *(RunChanges(updates=[c]) for c in mine.updates),
        *(RunChanges(tags=[c]) for c in mine.tags),
        *(RunChanges(properties=[c]) for c in mine.properties),
        *(RunChanges(metrics={r: [w]}) for r, writes in mine.metrics.items() for w in writes),
        *(RunChanges(statuses=[c]) for c in mine.statuses),
    ]
