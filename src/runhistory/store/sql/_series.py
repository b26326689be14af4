"""Reading metric chunks back: full columns, or a downsampled series for charts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from runhistory.store.sql._chunks import decode_into
from runhistory.store.sql.schema import metric_chunks
from runhistory.tracking.entities import MetricColumns

_chunk = metric_chunks.c
# (first_seq, count, value_min, value_max, x_at_min, x_at_max, x_min)
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


def read_series_many(
    conn: Connection,
    metric_rows: Sequence[Any],
    max_points: int,
    min_step: int | None,
    max_step: int | None,
) -> dict[int, tuple[bool, list[int], list[float]]]:
    """``{metric id: (downsampled, x, y)}`` for metric rows (``id``, ``has_step``) at once.

    One query reads the chunk summaries of every metric; a metric whose chunks are at least as
    many as the buckets is drawn from summaries alone, the others from their points.
    """
    buckets = max(1, max_points // 2)
    summaries = _summaries(conn, [int(r.id) for r in metric_rows], min_step, max_step)
    found: dict[int, tuple[bool, list[int], list[float]]] = {}
    for row in metric_rows:
        mine = summaries.get(int(row.id), [])
        if len(mine) >= buckets and sum(map(itemgetter(2), mine)) > max_points:
            found[int(row.id)] = (True, *_from_summaries(mine, buckets))
        else:
            found[int(row.id)] = _from_columns(
                read_columns(conn, int(row.id), bool(row.has_step), min_step, max_step),
                max_points, buckets,
            )  # fmt: skip
    return found


def _summaries(
    conn: Connection, metric_ids: list[int], min_step: int | None, max_step: int | None
) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for start in range(0, len(metric_ids), 500):
        query = (
            select(_chunk.metric_id, *_SUMMARY)
            .where(_chunk.metric_id.in_(metric_ids[start : start + 500]))
            .order_by(_chunk.metric_id, _chunk.first_seq)
        )
        rows = conn.execute(_in_range(query, min_step, max_step)).all()  # fetchall: fast
        for metric_id, group in groupby(rows, itemgetter(0)):
            found[metric_id] = list(group)
    return found


def _from_columns(
    columns: MetricColumns, max_points: int, buckets: int
) -> tuple[bool, list[int], list[float]]:
    xs = columns.steps if columns.steps is not None else columns.seqs
    pairs = sorted(
        (x, float(v)) for x, v in zip(xs, columns.values, strict=True)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)
    )  # fmt: skip
    if len(pairs) <= max_points:
        return False, [p[0] for p in pairs], [p[1] for p in pairs]
    return (True, *_from_points(pairs, buckets))


def _from_summaries(summaries: list[Any], buckets: int) -> tuple[list[int], list[float]]:
    # Rows: (metric_id, first_seq, count, value_min, value_max, x_at_min, x_at_max, x_min)
    ordered = sorted((s for s in summaries if s[3] is not None), key=itemgetter(7))
    points: list[tuple[int, float]] = []
    size = len(ordered)
    by_min, by_max = itemgetter(3), itemgetter(4)
    for bucket in range(buckets):
        group = ordered[bucket * size // buckets : (bucket + 1) * size // buckets]
        if group:
            low = min(group, key=by_min)
            high = max(group, key=by_max)
            points.extend(_pair((int(low[5]), float(low[3])), (int(high[6]), float(high[4]))))
    return [p[0] for p in points], [p[1] for p in points]


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
