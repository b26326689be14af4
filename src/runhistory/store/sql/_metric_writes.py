"""Appending metric points: the metric half of the write path (see _changes.py).

A metric row per (run, name) holds the kind, the point count and the last value; the points
live in ``metric_chunks`` (packed arrays of up to 128 points, see _chunks.py) keyed by
(metric id, first seq), with block summaries for charts (see _summaries.py); a metric with
one point keeps it in its row. Appending locks the metric rows (``SELECT … FOR UPDATE``, in id
order), continues their sequence numbers from ``count`` and inserts the chunks with one
``executemany``. Metrics of runs created in the same batch are inserted with their points.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.engine import Connection

from runhistory.errors import InvalidMetricError
from runhistory.store.sql._chunks import encode_chunks
from runhistory.store.sql._direct import execute, execute_many, json_rows
from runhistory.store.sql._statements import (
    CLAIM_BATCH,
    CLAIM_STORED,
    INSERT_CHUNKS,
    INSERT_METRIC,
    INSERT_METRIC_ROWS,
    INSERT_METRICS,
    INSERT_METRICS_JSON,
    METRIC_COLUMNS,
    NEW_METRIC,
    UPDATE_METRIC,
)
from runhistory.store.sql._summaries import complete_blocks
from runhistory.store.sql.schema import metric_batches, metrics
from runhistory.tracking.entities import VTYPE_BOOL, VTYPE_FLOAT, VTYPE_INT, MetricWrite

_METRICS_PER_INSERT = 64
# SQLite: new metric rows of one point inserted by one statement up to this many (a short
# run's few); one execution of a three-row insert costs less than three of a one-row insert.
_SINGLE_ROWS_PER_INSERT = 8
_NUMERIC = (VTYPE_FLOAT, VTYPE_INT, VTYPE_BOOL)
_IN_COLUMN_ORDER = itemgetter(*METRIC_COLUMNS)
_JSON_KEYS = tuple(str(name) for name in METRIC_COLUMNS)  # plain str: orjson's keys
# A metric row, locked (PostgreSQL) until the transaction ends: its count and last point.
ROW_COLUMNS = (
    metrics.c.id, metrics.c.name, metrics.c.kind, metrics.c.count, metrics.c.has_step,
    metrics.c.last_step, metrics.c.last_vtype, metrics.c.last_value, metrics.c.last_text,
    metrics.c.updated_time, metrics.c.min_value, metrics.c.max_value,
)  # fmt: skip
_ROWS = (
    select(*ROW_COLUMNS)
    .where(
        metrics.c.run_id == bindparam("run"), metrics.c.name.in_(bindparam("names", expanding=True))
    )
    .order_by(metrics.c.id)
    .with_for_update()
)


def claim_batch(conn: Connection, run_id: str, batch_id: str) -> bool:
    """Record a metric batch id of a run; False if it was stored before (a retry)."""
    params = {"run_id": run_id, "batch_id": batch_id, "created_time": time.time()}
    return execute(conn, CLAIM_BATCH, params).fetchone() is not None


def claim_stored(conn: Connection, run_id: str, batch_id: str) -> bool:
    """Record a batch id of a stored run in one statement; False if it was stored before or
    the run is missing (:func:`batch_claimed` tells which)."""
    params = {"run_id": run_id, "batch_id": batch_id, "created_time": time.time()}
    return execute(conn, CLAIM_STORED, params).fetchone() is not None


_CLAIMED = select(metric_batches.c.batch_id).where(
    metric_batches.c.run_id == bindparam("run_id"),
    metric_batches.c.batch_id == bindparam("batch_id"),
)
_LOCK_BATCH = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


def batch_claimed(conn: Connection, run_id: str, batch_id: str) -> bool:
    """Whether a batch id of a run was recorded before (the batch is a retry).

    On PostgreSQL the batch id is locked first (until the transaction ends), so a retry that
    arrives while the first try is still being stored waits for it and then finds its id;
    SQLite writes one transaction at a time anyway.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_BATCH, {"key": batch_id})
    params = {"run_id": run_id, "batch_id": batch_id}
    return conn.execute(_CLAIMED, params).first() is not None


def _metric_rows(conn: Connection, run_id: str, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {
        row.name: dict(row._mapping)
        for row in conn.execute(_ROWS, {"run": run_id, "names": list(names)})
    }


def _locked_rows(
    conn: Connection, run_id: str, writes: Sequence[MetricWrite]
) -> dict[str, dict[str, Any]]:
    """Get or create the metric row of every write (locked), checking that kinds match."""
    names = sorted({write.name for write in writes})
    found = _metric_rows(conn, run_id, names)
    missing: dict[str, MetricWrite] = {}
    for write in sorted(writes, key=lambda w: w.name):  # the first write of a name creates it
        if write.name not in found:
            missing.setdefault(write.name, write)
    if missing:
        new = [
            {"run_id": run_id, "name": w.name, "kind": w.kind, "description": w.description}
            for w in missing.values()
        ]
        execute_many(conn, NEW_METRIC, new)
        found.update(_metric_rows(conn, run_id, list(missing)))
    for write in writes:
        stored = found[write.name]["kind"]
        if stored != write.kind:
            raise InvalidMetricError(
                f"metric {write.name!r} of run {run_id!r} is of kind {stored!r}; "
                f"cannot log kind {write.kind!r} to it",
                name=write.name,
                kind=write.kind,
                stored_kind=stored,
            )
    return found


def _stored_point(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """The only point of a one-point metric, kept in its row: (step, vtype, number, text, time)."""
    step = row["last_step"] if row["has_step"] else None
    return (step, row["last_vtype"], row["last_value"], row["last_text"], row["updated_time"])


def extremes(
    write: MetricWrite, low: float | None = None, high: float | None = None
) -> tuple[float | None, float | None]:
    """The smallest and largest numeric value of ``write``'s points and of ``low``/``high``
    (what was logged before); NaN and non-numbers are left out."""
    for _, vtype, value, _, _ in write.points:
        if vtype in _NUMERIC and value is not None and value == value:
            low = value if low is None or value < low else low
            high = value if high is None or value > high else high
    return low, high


def _metric_update(
    metric_id: int, count: int, write: MetricWrite, row: Mapping[str, Any]
) -> dict[str, Any]:
    """Parameters of the metric row's update after ``write``: count, last point, extremes."""
    step, vtype, value, text, at = write.points[-1]
    steps = write.columns()[0]
    low, high = extremes(write, row.get("min_value"), row.get("max_value"))
    return {
        "id": metric_id, "count": count, "has_step": steps.count(None) != len(steps),
        "last_step": step, "last_vtype": vtype, "last_value": value, "last_text": text,
        "updated_time": at, "min_value": low, "max_value": high,
    }  # fmt: skip


def append(conn: Connection, run_id: str, writes: Sequence[MetricWrite]) -> None:
    """Append points to metrics of a stored run.

    A metric with a single point keeps it in its row only (most metrics of short runs are
    logged once: no chunk to encode, insert and index). When more points come, that point is
    written as the first of the metric's chunks.
    """
    rows = _locked_rows(conn, run_id, writes)
    updates: list[dict[str, Any]] = []
    chunks: list[dict[str, Any]] = []
    # Rows are locked in one global order (by id) so concurrent writers cannot deadlock;
    # the sort is stable, so writes to one metric keep their order.
    for write in sorted(writes, key=lambda w: rows[w.name]["id"]):
        if not write.points:
            continue
        row = rows[write.name]
        metric_id, old = int(row["id"]), int(row["count"])
        columns, first = write.columns(), old
        if old == 1:  # the point kept in the row becomes the first of a chunk
            point = _stored_point(row)
            columns = tuple([value, *column] for value, column in zip(point, columns, strict=True))  # type: ignore[assignment]
            first = 0
        update = _metric_update(metric_id, old + len(write.points), write, row)
        if update["count"] > 1:
            mine = encode_chunks(metric_id, first, columns)
            complete_blocks(conn, metric_id, old, update["count"], mine)
            chunks.extend(mine)
        row.update(
            update, has_step=row["has_step"] if row["has_step"] is not None else update["has_step"]
        )
        updates.append(update)
    execute_many(conn, UPDATE_METRIC, updates)
    execute_many(conn, INSERT_CHUNKS, chunks)


def _metric_values(run_id: str, write: MetricWrite) -> tuple[Any, ...]:
    """The :data:`METRIC_COLUMNS` of a new metric holding all of ``write``."""
    step, vtype, value, text, at = write.points[-1]
    has_step = write.columns()[0].count(None) == 0
    low, high = extremes(write)
    values = {
        "run_id": run_id, "name": write.name, "kind": write.kind,
        "description": write.description, "count": len(write.points), "has_step": has_step,
        "last_step": step, "last_vtype": vtype, "last_value": value, "last_text": text,
        "updated_time": at, "min_value": low, "max_value": high,
    }  # fmt: skip
    return _IN_COLUMN_ORDER(values)  # type: ignore[no-any-return]


def metric_json_row(run_id: str, write: MetricWrite) -> dict[str, Any]:
    """A new metric holding all of ``write``, as an object of :data:`METRIC_COLUMNS` (for a
    JSON array of rows)."""
    return dict(zip(_JSON_KEYS, _metric_values(run_id, write), strict=True))


def append_new(conn: Connection, writes_by_run: Mapping[str, Sequence[MetricWrite]]) -> None:
    """Metrics of runs created in this batch: rows inserted with their counts, then chunks."""
    rows: list[tuple[str, MetricWrite]] = []
    for run_id, mine in writes_by_run.items():
        names: set[str] = set()
        for write in mine:
            if write.name in names:  # the service sends one write per name of a new run
                raise InvalidMetricError(f"metric {write.name!r} of run {run_id!r} appears twice")
            names.add(write.name)
            rows.append((run_id, write))
    # Only metrics with chunks need their new ids back (RETURNING costs a multi-row insert).
    single = [_metric_values(r, w) for r, w in rows if len(w.points) == 1]
    as_json = None
    if single and conn.dialect.name == "postgresql":
        as_json = json_rows([dict(zip(_JSON_KEYS, row, strict=True)) for row in single])
    if as_json is not None:
        execute(conn, INSERT_METRICS_JSON, {"rows": as_json}).close()
    elif 1 < len(single) <= _SINGLE_ROWS_PER_INSERT and conn.dialect.name == "sqlite":
        values = [value for row in single for value in row]
        execute(conn, INSERT_METRIC_ROWS, values, len(single)).close()
    else:
        execute_many(conn, INSERT_METRIC, single)
    ids: dict[tuple[str, str], int] = {}
    longer = [(r, w) for r, w in rows if len(w.points) > 1]
    for start in range(0, len(longer), _METRICS_PER_INSERT):
        part = longer[start : start + _METRICS_PER_INSERT]
        values = [value for run_id, write in part for value in _metric_values(run_id, write)]
        for metric_id, run_id, name in execute(conn, INSERT_METRICS, values, len(part)):
            ids[(run_id, name)] = int(metric_id)
    chunks: list[dict[str, Any]] = []
    for run_id, write in rows:
        if len(write.points) == 1:
            continue  # a metric's only point stays in its row (see append)
        metric_id = ids[(run_id, write.name)]
        encoded = encode_chunks(metric_id, 0, write.columns())
        complete_blocks(conn, metric_id, 0, len(write.points), encoded)
        chunks.extend(encoded)
    execute_many(conn, INSERT_CHUNKS, chunks)
