"""Reading metric chunks back: full columns, or a downsampled series for charts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from runhistory.store.sql._chunks import decode_into, decode_value
from runhistory.store.sql._summaries import SUMMARY_BLOCK_POINTS, TAIL_COLUMNS, SummaryColumns
from runhistory.store.sql.schema import metric_chunks, metric_summaries
from runhistory.tracking.entities import MetricColumns

_chunk = metric_chunks.c
_BLOBS = (_chunk.first_seq, _chunk.count, _chunk.steps, _chunk.vals, _chunk.times,
          _chunk.vtypes, _chunk.texts)  # fmt: skip


def _in_range(
    query: Any,
    min_step: int | None,
    max_step: int | None,
    times: tuple[float, float] | None = None,
) -> Any:
    if min_step is not None:
        query = query.where(_chunk.x_max >= min_step)
    if max_step is not None:
        query = query.where(_chunk.x_min <= max_step)
    if times is not None:
        query = query.where(_chunk.time_max >= times[0], _chunk.time_min <= times[1])
    return query


def read_columns(
    conn: Connection,
    metric: Mapping[str, Any],
    min_step: int | None = None,
    max_step: int | None = None,
    times: tuple[float, float] | None = None,
) -> MetricColumns:
    """Every point of a metric (within an optional x range, and logging-time range
    ``times``), in logging order.

    ``metric`` is its row (``id``, ``count``, ``has_step`` and the last point): a metric with
    one point keeps it there, not in a chunk. Only the chunks that may hold points within the
    ranges are read.
    """
    has_step = bool(metric["has_step"])
    if metric["count"] == 1:
        value = decode_value(metric["last_vtype"], metric["last_value"], metric["last_text"])
        step = metric["last_step"] if has_step else None
        columns = MetricColumns([0], None if step is None else [step], [value],
                                [metric["updated_time"]])  # fmt: skip
    else:
        query = select(*_BLOBS).where(_chunk.metric_id == metric["id"]).order_by(_chunk.first_seq)
        seqs: list[int] = []
        steps: list[int] | None = [] if has_step else None
        values: list[Any] = []
        at: list[float] = []
        for row in conn.execute(_in_range(query, min_step, max_step, times)):
            decode_into(row, seqs, steps, values, at)
        columns = MetricColumns(seqs, steps, values, at)
    if min_step is None and max_step is None and times is None:
        return columns
    return _clip(columns, min_step, max_step, times)


def _clip(
    columns: MetricColumns,
    min_step: int | None,
    max_step: int | None,
    times: tuple[float, float] | None = None,
) -> MetricColumns:
    xs = columns.steps if columns.steps is not None else columns.seqs
    low = -math.inf if min_step is None else min_step
    high = math.inf if max_step is None else max_step
    first, last = times if times is not None else (-math.inf, math.inf)
    keep = [
        i
        for i, (x, t) in enumerate(zip(xs, columns.times, strict=True))
        if low <= x <= high and first <= t <= last
    ]
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
    x: str = "step",
) -> dict[int, tuple[bool, list[Any], list[float]]]:
    """``{metric id: (downsampled, x, y)}`` for metric rows (mappings, see read_columns).

    The chunk summaries of every metric are read together (packed blocks, then the chunks of
    each metric's last, incomplete block); a metric whose chunks are at least as many as the
    buckets is drawn from its summaries alone, the others from their points.

    With ``x="time"`` the x of each point is its logging time (seconds since the epoch) and the
    buckets are consecutive runs of points in time order: every metric is read from its points
    (chunk summaries know steps, not times), each bucket keeping its minimum and maximum.
    """
    buckets = max(1, max_points // 2)
    if x == "time":
        return {
            metric_id: _from_times(columns, max_points, buckets)
            for metric_id, columns in _read_columns_many(
                conn, metric_rows, min_step, max_step
            ).items()
        }
    summaries = _summaries(conn, [int(r["id"]) for r in metric_rows], min_step, max_step)
    found: dict[int, tuple[bool, list[Any], list[float]]] = {}
    from_points = []
    for row in metric_rows:
        metric_id = int(row["id"])
        mine = summaries.get(metric_id, SummaryColumns())
        if len(mine) >= buckets and sum(mine.count) > max_points:
            found[metric_id] = (True, *_from_summaries(mine, buckets))
        else:
            from_points.append(row)
    for metric_id, columns in _read_columns_many(conn, from_points, min_step, max_step).items():
        found[metric_id] = _from_columns(columns, max_points, buckets)
    return found


_MANY_CHUNKS = (
    select(_chunk.metric_id, *_BLOBS)
    .where(_chunk.metric_id.in_(bindparam("ids", expanding=True)))
    .order_by(_chunk.metric_id, _chunk.first_seq)
)  # fmt: skip


def _read_columns_many(
    conn: Connection,
    metric_rows: Sequence[Any],
    min_step: int | None,
    max_step: int | None,
) -> dict[int, MetricColumns]:
    """:func:`read_columns` of many metrics, their chunks read 500 metrics per query (a chart
    of many runs' short curves reads a few queries, not one per run)."""
    found: dict[int, MetricColumns] = {}
    chunked: dict[int, Mapping[str, Any]] = {}
    for row in metric_rows:
        if row["count"] == 1:
            found[int(row["id"])] = read_columns(conn, row, min_step, max_step)
        else:
            chunked[int(row["id"])] = row
    ids = list(chunked)
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        parts: dict[int, tuple[list[int], list[int] | None, list[Any], list[float]]] = {
            m: ([], [] if chunked[m]["has_step"] else None, [], []) for m in part
        }
        query = _in_range(_MANY_CHUNKS, min_step, max_step)
        for row in conn.execute(query, {"ids": part}):
            seqs, steps, values, times = parts[int(row.metric_id)]
            decode_into(row, seqs, steps, values, times)
        for metric_id, (seqs, steps, values, times) in parts.items():
            columns = MetricColumns(seqs, steps, values, times)
            if min_step is not None or max_step is not None:
                columns = _clip(columns, min_step, max_step)
            found[metric_id] = columns
    return found


_SUMMARY_BLOCKS = (
    select(metric_summaries.c.metric_id, metric_summaries.c.first_seq,
           metric_summaries.c.chunk_count, metric_summaries.c.summary)
    .where(metric_summaries.c.metric_id.in_(bindparam("ids", expanding=True)))
    .order_by(metric_summaries.c.metric_id, metric_summaries.c.first_seq)
)  # fmt: skip
_TAIL = (
    select(_chunk.metric_id, *TAIL_COLUMNS)
    .where(_chunk.metric_id.in_(bindparam("ids", expanding=True)),
           _chunk.first_seq >= bindparam("start"))
    .order_by(_chunk.metric_id, _chunk.first_seq)
)  # fmt: skip


def _summaries(
    conn: Connection, metric_ids: list[int], min_step: int | None, max_step: int | None
) -> dict[int, SummaryColumns]:
    """Every chunk summary of each metric, in first_seq order, within the x range."""
    found = {metric_id: SummaryColumns() for metric_id in metric_ids}
    tail_start = dict.fromkeys(metric_ids, 0)
    for start in range(0, len(metric_ids), 500):
        ids = metric_ids[start : start + 500]
        for metric_id, first_seq, count, packed in conn.execute(_SUMMARY_BLOCKS, {"ids": ids}):
            found[metric_id].extend_packed(packed, count)
            tail_start[metric_id] = int(first_seq) + SUMMARY_BLOCK_POINTS
    # The chunks after each metric's last block (read after the blocks, so that a block
    # completed meanwhile is read as chunks: nothing is missed or read twice).
    by_start: dict[int, list[int]] = {}
    for metric_id, first in tail_start.items():
        by_start.setdefault(first, []).append(metric_id)
    for first, ids in by_start.items():
        for part in range(0, len(ids), 500):
            params = {"ids": ids[part : part + 500], "start": first}
            for metric_id, *summary in conn.execute(_TAIL, params):
                found[metric_id].append(tuple(summary))  # type: ignore[arg-type]
    if min_step is None and max_step is None:
        return found
    low = -math.inf if min_step is None else min_step
    high = math.inf if max_step is None else max_step
    return {m: mine.select(_within(mine, low, high)) for m, mine in found.items()}


def _within(summaries: SummaryColumns, low: float, high: float) -> list[int]:
    """Positions of the chunks whose x range meets ``[low, high]``."""
    spans = zip(summaries.x_min, summaries.x_max, strict=True)
    return [i for i, (first, last) in enumerate(spans) if last >= low and first <= high]


def _from_columns(
    columns: MetricColumns, max_points: int, buckets: int
) -> tuple[bool, list[Any], list[float]]:
    xs = columns.steps if columns.steps is not None else columns.seqs
    numbers = map(_chart_number, columns.values)
    pairs = sorted((x, y) for x, y in zip(xs, numbers, strict=True) if y is not None)
    if len(pairs) <= max_points:
        return False, [p[0] for p in pairs], [p[1] for p in pairs]
    return (True, *_from_points(pairs, buckets))


def _from_times(
    columns: MetricColumns, max_points: int, buckets: int
) -> tuple[bool, list[Any], list[float]]:
    """The points of a metric by logging time (ties keep logging order), downsampled like
    steps when they are more than ``max_points``."""
    numbers = map(_chart_number, columns.values)
    pairs = sorted(
        ((at, seq, y) for at, seq, y in zip(columns.times, columns.seqs, numbers, strict=True)
         if y is not None),
        key=lambda p: (p[0], p[1]),
    )  # fmt: skip
    timed = [(at, y) for at, _, y in pairs]
    if len(timed) <= max_points:
        return False, [p[0] for p in timed], [p[1] for p in timed]
    return (True, *_from_points(timed, buckets))


def _chart_number(value: Any) -> float | None:
    """A value as a chart's y (integers beyond the float range are ±inf), or None."""
    kind = type(value)
    if kind is float:
        return value if value == value else None
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return None


def _from_summaries(summaries: SummaryColumns, buckets: int) -> tuple[list[int], list[float]]:
    """Min/max per bucket of chunk summaries (by x), each as a point where it occurs."""
    lows = summaries.low
    keep = [i for i, value in enumerate(lows) if value == value]  # chunks with numbers
    x_min = [summaries.x_min[i] for i in keep]
    if x_min != sorted(x_min):  # steps not increasing: order by x
        keep.sort(key=summaries.x_min.__getitem__)
        summaries = summaries.select(keep)
    elif len(keep) != len(lows):
        summaries = summaries.select(keep)
    lows, highs = summaries.low, summaries.high
    size = len(lows)
    at_low: list[int] = []
    at_high: list[int] = []
    bounds = [bucket * size // buckets for bucket in range(buckets + 1)]
    for first, end in pairwise(bounds):  # most buckets hold one or two chunks
        width = end - first
        if width == 1:
            at_low.append(first)
            at_high.append(first)
        elif width == 2:
            at_low.append(first if lows[first] <= lows[first + 1] else first + 1)
            at_high.append(first if highs[first] >= highs[first + 1] else first + 1)
        elif width > 2:
            span = range(first, end)
            at_low.append(min(span, key=lows.__getitem__))
            at_high.append(max(span, key=highs.__getitem__))
    x_low, x_high = summaries.x_at_low, summaries.x_at_high
    xs: list[int] = []
    ys: list[float] = []
    for i, j in zip(at_low, at_high, strict=True):
        low_x, high_x = x_low[i], x_high[j]
        if low_x == high_x and lows[i] == highs[j]:  # one point is both
            xs.append(low_x)
            ys.append(lows[i])
        elif low_x <= high_x:
            xs += (low_x, high_x)
            ys += (lows[i], highs[j])
        else:
            xs += (high_x, low_x)
            ys += (highs[j], lows[i])
    return xs, ys


def _from_points(pairs: Sequence[tuple[Any, float]], buckets: int) -> tuple[list[Any], list[float]]:
    """Min and max of each of ``buckets`` consecutive runs of (x, y) pairs sorted by x."""
    points: list[tuple[Any, float]] = []
    size = len(pairs)
    for bucket in range(buckets):
        part = pairs[bucket * size // buckets : (bucket + 1) * size // buckets]
        if part:
            low = min(part, key=lambda p: p[1])
            high = max(part, key=lambda p: p[1])
            points.extend(_pair(low, high))
    return [p[0] for p in points], [p[1] for p in points]


def _pair(low: tuple[Any, float], high: tuple[Any, float]) -> list[tuple[Any, float]]:
    if low == high:
        return [low]
    return [low, high] if low[0] <= high[0] else [high, low]
