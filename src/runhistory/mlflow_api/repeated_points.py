"""MLflow's rule for a repeated metric point: a point equal in key, value, timestamp and step
to one the run already has, or to an earlier one of the same request, is not stored again.

``mlflow server`` keeps one row per (key, value, timestamp, step) of a run (its metrics'
primary key), and MLflow 3 relies on it: logging a model sends the run's latest metrics once
more, linked to the model. Only the stored points that could be equal are read: those of the
metrics the run already has, within the steps and the milliseconds of the request's points
(the store reads only the chunks that may hold such points, never a whole history).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from runhistory.errors import NotFoundError
from runhistory.tracking.entities import MetricWrite
from runhistory.tracking.service import TrackingService

# A point as MLflow compares it: (step, value or None for NaN, epoch milliseconds).
PointKey = tuple[int | None, float | None, int]
_MARGIN = 0.001  # seconds around the asked times, so that no rounding leaves a point out


def point_key(step: int | None, value: float | None, at: float) -> PointKey:
    """How MLflow tells two points of a metric apart (every NaN is the same value)."""
    return step, None if value is None or value != value else value, round(at * 1000)


def new_points(
    service: TrackingService, run_id: str, writes: Sequence[MetricWrite]
) -> list[MetricWrite]:
    """``writes`` without the points the run already has and the repeats within them (a write
    left without points is left out)."""
    unique = [_first_of_each(write) for write in writes]
    if len(unique) > 1:  # one read of the run's metric names spares a read per new name
        known = {info.name for info in service.store.get_metric_infos(run_id)}
        unique = [_without_stored(service, run_id, w) if w.name in known else w for w in unique]
    elif unique:
        unique = [_without_stored(service, run_id, unique[0])]
    return [write for write in unique if write.points]


def _first_of_each(write: MetricWrite) -> MetricWrite:
    seen: set[PointKey] = set()
    kept = []
    for point in write.points:
        key = point_key(point[0], point[2], point[4])
        if key not in seen:
            seen.add(key)
            kept.append(point)
    return write if len(kept) == len(write.points) else _with_points(write, kept)


def _without_stored(service: TrackingService, run_id: str, write: MetricWrite) -> MetricWrite:
    steps = [p[0] or 0 for p in write.points]
    times = [p[4] for p in write.points]
    window = (min(times) - _MARGIN, max(times) + _MARGIN)
    try:
        stored = service.store.get_metric_columns(
            run_id, write.name, min(steps), max(steps), times=window
        )
    except NotFoundError:  # a metric the run does not have yet
        return write
    if not len(stored):
        return write
    stored_steps = stored.steps if stored.steps is not None else [None] * len(stored)
    have = {
        point_key(step, value, at)
        for step, value, at in zip(stored_steps, stored.values, stored.times, strict=True)
        if isinstance(value, float | int) and not isinstance(value, bool)
    }
    return _with_points(write, (p for p in write.points if point_key(p[0], p[2], p[4]) not in have))


def _with_points(
    write: MetricWrite, points: Iterable[tuple[int | None, int, float | None, str | None, float]]
) -> MetricWrite:
    return MetricWrite(write.name, write.kind, list(points), write.description)
