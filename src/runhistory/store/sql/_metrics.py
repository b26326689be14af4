"""Metrics in the SQL store: the hot append path and the reads.

A metric row per (run, name) holds the kind, the point count and the last value; the points
live in ``metric_chunks`` (packed arrays of up to 128 points, see _chunks.py) keyed by
(metric id, first seq), with block summaries for charts (see _summaries.py). Appending
reserves a range of sequence numbers by bumping ``count`` (``UPDATE … RETURNING``, which also
locks the metric row until commit) and inserts the chunks with one ``executemany``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from runhistory.errors import InvalidMetricError, NotFoundError
from runhistory.store.sql._chunks import encode_chunks
from runhistory.store.sql._common import (
    SqlStoreBase,
    chunks,
    insert_ignore,
    insert_ignore_stmt,
    require_run,
)
from runhistory.store.sql._series import read_columns, read_series_many
from runhistory.store.sql._summaries import complete_blocks
from runhistory.store.sql.schema import metric_batches, metric_chunks, metrics
from runhistory.tracking.entities import (
    KIND_LIST,
    KIND_SCALAR,
    VTYPE_BOOL,
    VTYPE_FLOAT,
    VTYPE_INT,
    VTYPE_JSON,
    VTYPE_NAN,
    VTYPE_STR,
    MetricColumns,
    MetricInfo,
    MetricPoint,
    MetricSeries,
    MetricWrite,
)


def decode_value(vtype: int | None, value: float | None, text: str | None) -> Any:
    """The Python value of a stored point (see the ``VTYPE_*`` codes)."""
    if vtype == VTYPE_FLOAT:
        return math.nan if value is None else float(value)
    if vtype == VTYPE_INT:
        return int(value) if value is not None else None
    if vtype == VTYPE_BOOL:
        return bool(value)
    if vtype == VTYPE_STR:
        return text
    if vtype == VTYPE_NAN:
        return math.nan
    if vtype == VTYPE_JSON:
        return None if text is None else orjson.loads(text)
    return value if text is None else text


def _claim_batch(conn: Connection, run_id: str, batch_id: str, now: float) -> bool:
    stmt = insert_ignore_stmt(conn, metric_batches, ["run_id", "batch_id"])
    stmt = stmt.values(run_id=run_id, batch_id=batch_id, created_time=now)
    return conn.execute(stmt.returning(metric_batches.c.batch_id)).first() is not None


def _metric_rows(conn: Connection, run_id: str, names: Sequence[str]) -> dict[str, Any]:
    query = select(metrics.c.id, metrics.c.name, metrics.c.kind).where(
        metrics.c.run_id == run_id, metrics.c.name.in_(names)
    )
    return {row.name: row for row in conn.execute(query)}


def _metric_ids(conn: Connection, run_id: str, writes: Sequence[MetricWrite]) -> dict[str, int]:
    """Get or create the metric row of every write, checking that kinds match."""
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
        insert_ignore(conn, metrics, new, ["run_id", "name"])
        found.update(_metric_rows(conn, run_id, list(missing)))
    for write in writes:
        stored = found[write.name].kind
        if stored != write.kind:
            raise InvalidMetricError(
                f"metric {write.name!r} of run {run_id!r} is of kind {stored!r}; "
                f"cannot log kind {write.kind!r} to it",
                name=write.name,
                kind=write.kind,
                stored_kind=stored,
            )
    return {name: int(row.id) for name, row in found.items()}


def _reserve(conn: Connection, metric_id: int, write: MetricWrite) -> int:
    """Bump the metric's count and last value; returns the first seq of ``write``."""
    step, vtype, value, text, at = write.points[-1]
    steps = write.columns()[0]
    has_step = list(steps).count(None) != len(steps)
    stmt = (
        update(metrics)
        .where(metrics.c.id == metric_id)
        .values(
            count=metrics.c.count + len(write.points),
            has_step=func.coalesce(metrics.c.has_step, has_step),
            last_step=step,
            last_vtype=vtype,
            last_value=value,
            last_text=text,
            updated_time=at,
        )
        .returning(metrics.c.count)
    )
    return int(conn.execute(stmt).scalar_one()) - len(write.points)


def _append(conn: Connection, run_id: str, writes: Sequence[MetricWrite]) -> None:
    ids = _metric_ids(conn, run_id, writes)
    rows: list[dict[str, Any]] = []
    # Lock metric rows in one global order (by id) so concurrent writers cannot deadlock;
    # the sort is stable, so writes to one metric keep their order.
    for write in sorted(writes, key=lambda w: ids[w.name]):
        if not write.points:
            continue
        metric_id = ids[write.name]
        first = _reserve(conn, metric_id, write)
        mine = encode_chunks(metric_id, first, write.columns())
        complete_blocks(conn, metric_id, first, first + len(write.points), mine)
        rows.extend(mine)
    if rows:
        conn.execute(metric_chunks.insert(), rows)


def _to_info(row: Any) -> MetricInfo:
    return MetricInfo(
        run_id=row.run_id,
        name=row.name,
        kind=row.kind,
        description=row.description,
        count=int(row.count),
        has_step=None if row.has_step is None else bool(row.has_step),
        last_value=decode_value(row.last_vtype, row.last_value, row.last_text),
        last_step=row.last_step,
        updated_time=row.updated_time,
    )


class MetricsMixin(SqlStoreBase):
    """The metric methods of :class:`~runhistory.store.sql.SqlTrackingStore`."""

    def log_metrics(
        self, run_id: str, writes: Sequence[MetricWrite], batch_id: str | None = None
    ) -> bool:
        """Append points; sequence numbers start at 0 and continue per metric."""

        def work(conn: Connection) -> bool:
            require_run(conn, run_id)
            if batch_id is not None and not _claim_batch(conn, run_id, batch_id, time.time()):
                return False
            _append(conn, run_id, writes)
            return True

        return self._write_hot(work)

    def get_metric_infos(self, run_id: str) -> list[MetricInfo]:
        def work(conn: Connection) -> list[MetricInfo]:
            require_run(conn, run_id)
            query = select(metrics).where(metrics.c.run_id == run_id).order_by(metrics.c.name)
            return [_to_info(row) for row in conn.execute(query)]

        return self._read(work)

    def _metric_row(self, conn: Connection, run_id: str, name: str) -> Any:
        require_run(conn, run_id)
        query = select(metrics.c.id, metrics.c.kind, metrics.c.count, metrics.c.has_step).where(
            metrics.c.run_id == run_id, metrics.c.name == name
        )
        row = conn.execute(query).first()
        if row is None:
            raise NotFoundError(f"no metric {name!r} in run {run_id!r}", run_id=run_id, name=name)
        return row

    def get_metric_columns(
        self,
        run_id: str,
        name: str,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> MetricColumns:
        def work(conn: Connection) -> MetricColumns:
            row = self._metric_row(conn, run_id, name)
            return read_columns(conn, int(row.id), bool(row.has_step), min_step, max_step)

        return self._read(work)

    def get_metric_points(
        self,
        run_id: str,
        name: str,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> list[MetricPoint]:
        columns = self.get_metric_columns(run_id, name, min_step, max_step)
        steps: list[int | None] = (
            list(columns.steps) if columns.steps is not None else [None] * len(columns)
        )
        return [
            MetricPoint(seq, step, value, at)
            for seq, step, value, at in zip(
                columns.seqs, steps, columns.values, columns.times, strict=True
            )
        ]

    def get_metric_series(
        self,
        run_ids: Sequence[str],
        names: Sequence[str],
        max_points: int,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> list[MetricSeries]:
        def work(conn: Connection) -> list[MetricSeries]:
            rows: list[Any] = []
            for chunk in chunks(list(dict.fromkeys(run_ids))):
                query = select(
                    metrics.c.id, metrics.c.run_id, metrics.c.name, metrics.c.kind,
                    metrics.c.count.label("n"), metrics.c.has_step,
                ).where(metrics.c.run_id.in_(chunk), metrics.c.name.in_(list(names)))  # fmt: skip
                rows.extend(conn.execute(query).all())
            found = read_series_many(conn, rows, max_points, min_step, max_step)
            return [
                MetricSeries(r.run_id, r.name, r.kind, int(r.n), *found[int(r.id)]) for r in rows
            ]

        return self._read(work)

    def get_last_metric_values(
        self, run_ids: Sequence[str], names: Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Every asked run is a key of the answer, with ``{}`` if it has no such metrics."""

        def work(conn: Connection) -> dict[str, dict[str, Any]]:
            found: dict[str, dict[str, Any]] = {run_id: {} for run_id in run_ids}
            columns = metrics.c
            for chunk in chunks(list(found)):
                query = select(
                    columns.run_id, columns.name, columns.last_vtype,
                    columns.last_value, columns.last_text,
                ).where(
                    columns.run_id.in_(chunk),
                    columns.kind.in_((KIND_SCALAR, KIND_LIST)),
                    columns.count > 0,
                )  # fmt: skip
                if names is not None:
                    query = query.where(columns.name.in_(list(names)))
                for run_id, name, vtype, value, text in conn.execute(query):
                    found[run_id][name] = decode_value(vtype, value, text)
            return found

        return self._read(work)
