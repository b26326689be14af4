"""Reading metric chunks back: full columns, or a downsampled series for charts."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from runhistory.store.sql._chunks import decode_into
from runhistory.store.sql.schema import metric_chunks
from runhistory.tracking.entities import MetricColumns

_chunk = metric_chunks.c
_SUMMARY = (_chunk.first_seq, _chunk.count, _chunk.value_min, _chunk.value_max,
            _chunk.x_at_min, _chunk.x_at_max, _chunk.x_min)  # fmt: skip
_BLOBS = (_chunk.first_seq, _chunk.count, _chunk.steps, _chunk.vals, _chunk.times,
          _chunk.vtypes, _chunk.texts)  # fmt: skip


def _in_range(query: Any, min_step: int | None, max_step: int | None) -> Any:
    if min_step is not None:
        query = query.where(_chunk.x_max >= min_step)
    if max_step is not None:
        query = query.where(_chunk.x_min <= max_step)
    return query


def read_columns(
    conn: Connection,
    metric_id: int,
    has_step: bool,
    min_step: int | None = None,
    max_step: int | None = None,
) -> MetricColumns:
    """Every point of a metric (within an optional x range), in logging order."""
    query = select(*_BLOBS).where(_chunk.metric_id == metric_id).order_by(_chunk.first_seq)
    seqs: list[int] = []
    steps: list[int] | None = [] if has_step else None
    values: list[Any] = []
    times: list[float] = []
    for row in conn.execute(_in_range(query, min_step, max_step)):
        decode_into(row, seqs, steps, values, times)
    columns = MetricColumns(seqs, steps, values, times)
    if min_step is None and max_step is None:
        return columns
    return _clip(columns, min_step, max_step)


def _clip(columns: MetricColumns, min_step: int | None, max_step: int | None) -> MetricColumns:
    xs = columns.steps if columns.steps is not None else columns.seqs
    low = -math.inf if min_step is None else min_step
    high = math.inf if max_step is None else max_step
    keep = [i for i, x in enumerate(xs) if low <= x <= high]
    return MetricColumns(
        [columns.seqs[i] for i in keep],
        None if columns.steps is None else [columns.steps[i] for i in keep],
        [columns.values[i] for i in keep],
        [columns.times[i] for i in keep],
    )


def read_series(
    conn: Connection,
    metric_id: int,
    has_step: bool,
    max_points: int,
    min_step: int | None,
    max_step: int | None,
) -> tuple[list[int], list[float], bool]:
    """``(x, y, downsampled)`` with at most ``max_points`` points; min and max per bucket."""
    buckets = max(1, max_points // 2)
    query = select(*_SUMMARY).where(_chunk.metric_id == metric_id).order_by(_chunk.first_seq)
    summaries = conn.execute(_in_range(query, min_step, max_step)).all()
    total = sum(int(s.count) for s in summaries)
    if len(summaries) >= buckets and total > max_points:
        return (*_from_summaries(summaries, buckets), True)
    columns = read_columns(conn, metric_id, has_step, min_step, max_step)
    xs = columns.steps if columns.steps is not None else columns.seqs
    pairs = sorted(
        (x, float(v)) for x, v in zip(xs, columns.values, strict=True)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)
    )  # fmt: skip
    if len(pairs) <= max_points:
        return [p[0] for p in pairs], [p[1] for p in pairs], False
    return (*_from_points(pairs, buckets), True)


def _from_summaries(summaries: list[Any], buckets: int) -> tuple[list[int], list[float]]:
    ordered = sorted((s for s in summaries if s.value_min is not None), key=lambda s: s.x_min)
    groups: list[list[Any]] = [[] for _ in range(buckets)]
    for index, summary in enumerate(ordered):
        groups[index * buckets // len(ordered)].append(summary)
    points: list[tuple[int, float]] = []
    for group in groups:
        if group:
            low = min(group, key=lambda s: s.value_min)
            high = max(group, key=lambda s: s.value_max)
            points.extend(
                _pair((int(low.x_at_min), low.value_min), (int(high.x_at_max), high.value_max))
            )
    return [p[0] for p in points], [float(p[1]) for p in points]


def _from_points(pairs: list[tuple[int, float]], buckets: int) -> tuple[list[int], list[float]]:
    points: list[tuple[int, float]] = []
    size = len(pairs)
    for bucket in range(buckets):
        part = pairs[bucket * size // buckets : (bucket + 1) * size // buckets]
        if part:
            low = min(part, key=lambda p: p[1])
            high = max(part, key=lambda p: p[1])
            points.extend(_pair(low, high))
    return [p[0] for p in points], [p[1] for p in points]


def _pair(low: tuple[int, float], high: tuple[int, float]) -> list[tuple[int, float]]:
    if low == high:
        return [low]
    return [low, high] if low[0] <= high[0] else [high, low]
