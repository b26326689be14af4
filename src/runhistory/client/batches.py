"""Building the writer's batches, and splitting a refused one so one bad change costs nothing
else: first into the changes of each run, then a run's into single changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import groupby
from operator import itemgetter

from runhistory.tracking.change_pieces import by_run, single_changes
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
__all__ = ["MetricKey", "QueueItem", "RunChange", "by_run", "changes_batch", "group_writes",
           "single_changes"]  # fmt: skip

_by_key = itemgetter(0)
_SMALL = 64  # values grouped one by one in Python (beyond: at C speed, by groupby and zip)


def group_writes(
    batch: list[QueueItem], keys: Mapping[int, MetricKey]
) -> dict[str, list[MetricWrite]]:
    """Group queued values into one ``MetricWrite`` per (run, metric), keeping their order."""
    batch.sort(key=_by_key)  # stable: values of one metric keep their order
    if len(batch) <= _SMALL:
        return _group_small(batch, keys)
    grouped: dict[str, list[MetricWrite]] = {}
    for key, items in groupby(batch, _by_key):
        run_id, name, kind, description = keys[key]
        _, *columns = zip(*items, strict=True)
        write = MetricWrite.from_columns(name, kind, tuple(columns), description)  # type: ignore[arg-type]
        grouped.setdefault(run_id, []).append(write)
    return grouped


def _group_small(
    batch: list[QueueItem], keys: Mapping[int, MetricKey]
) -> dict[str, list[MetricWrite]]:
    """:func:`group_writes` of a few values (sorted already), most of them one per metric (a
    short run's): a metric's single value is made a write without transposing a group (a
    third of the time)."""
    grouped: dict[str, list[MetricWrite]] = {}
    start, end = 0, len(batch)
    while start < end:
        key = batch[start][0]
        stop = start + 1
        while stop < end and batch[stop][0] == key:
            stop += 1
        if stop == start + 1:
            _, step, vtype, number, text, at = batch[start]
            columns = ((step,), (vtype,), (number,), (text,), (at,))
        else:
            _, *transposed = zip(*batch[start:stop], strict=True)
            columns = tuple(transposed)  # type: ignore[assignment]
        run_id, name, kind, description = keys[key]
        write = MetricWrite.from_columns(name, kind, columns, description)  # type: ignore[arg-type]
        grouped.setdefault(run_id, []).append(write)
        start = stop
    return grouped


def changes_batch(
    changes: Sequence[RunChange], metrics: dict[str, list[MetricWrite]]
) -> RunChanges:
    """Sort queued run changes into one :class:`RunChanges` batch, keeping their order.

    The SDK checks creations, tags and properties before it queues them (see
    :mod:`runhistory.sdk.write_behind`), so the batch is marked ``checked``.
    """
    batch = RunChanges(metrics=metrics, checked=True)
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
