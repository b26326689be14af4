"""Metrics in the SQL store: the hot append path and the reads.

A metric row per (run, name) holds the kind, the point count and the last value; the points
live in ``metric_chunks`` (packed arrays of up to 128 points, see _chunks.py) keyed by
(metric id, first seq), with block summaries for charts (see _summaries.py); a metric with
one point keeps it in its row. Appending locks the metric rows (``SELECT … FOR UPDATE``, in id
order), continues their sequence numbers from ``count`` and inserts the chunks with one
``executemany``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from runhistory.errors import InvalidMetricError, NotFoundError
from runhistory.store.sql._chunks import decode_value, encode_chunks
from runhistory.store.sql._common import (
    SqlStoreBase,
    chunks,
    insert_ignore_stmt,
    require_run,
)
from runhistory.store.sql._direct import execute_many, insert_sql
from runhistory.store.sql._series import read_columns, read_series_many
from runhistory.store.sql._summaries import complete_blocks
from runhistory.store.sql.schema import metric_batches, metric_chunks, metrics
from runhistory.tracking.entities import (
    KIND_LIST,
    KIND_SCALAR,
    MetricColumns,
    MetricInfo,
    MetricPoint,
    MetricSeries,
    MetricWrite,
)


def _claim_batch(conn: Connection, run_id: str, batch_id: str, now: float) -> bool:
    stmt = insert_ignore_stmt(conn, metric_batches, ["run_id", "batch_id"])
    stmt = stmt.values(run_id=run_id, batch_id=batch_id, created_time=now)
    return conn.execute(stmt.returning(metric_batches.c.batch_id)).first() is not None


# A metric row, locked (PostgreSQL) until the transaction ends: its count and last point.
_ROW_COLUMNS = (
    metrics.c.id, metrics.c.name, metrics.c.kind, metrics.c.count, metrics.c.has_step,
    metrics.c.last_step, metrics.c.last_vtype, metrics.c.last_value, metrics.c.last_text,
    metrics.c.updated_time,
)  # fmt: skip
_ROWS = (
    select(*_ROW_COLUMNS)
    .where(
        metrics.c.run_id == bindparam("run"), metrics.c.name.in_(bindparam("names", expanding=True))
    )
    .order_by(metrics.c.id)
    .with_for_update()
)
_NEW_METRIC = insert_sql(
    "metrics", ("run_id", "name", "kind", "description"), " ON CONFLICT DO NOTHING"
)
_UPDATE_METRIC = (
    "UPDATE metrics SET count = :count, has_step = COALESCE(has_step, :has_step), "
    "last_step = :last_step, last_vtype = :last_vtype, last_value = :last_value, "
    "last_text = :last_text, updated_time = :updated_time WHERE id = :id"
)
INSERT_CHUNKS = insert_sql("metric_chunks", tuple(c.name for c in metric_chunks.c))


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
        execute_many(conn, _NEW_METRIC, new)
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


def stored_point(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """The only point of a one-point metric, kept in its row: (step, vtype, number, text, time)."""
    step = row["last_step"] if row["has_step"] else None
    return (step, row["last_vtype"], row["last_value"], row["last_text"], row["updated_time"])


def metric_update(metric_id: int, count: int, write: MetricWrite) -> dict[str, Any]:
    """Parameters of the metric row's update after ``write``: count and last point."""
    step, vtype, value, text, at = write.points[-1]
    steps = write.columns()[0]
    return {
        "id": metric_id, "count": count, "has_step": steps.count(None) != len(steps),
        "last_step": step, "last_vtype": vtype, "last_value": value, "last_text": text,
        "updated_time": at,
    }  # fmt: skip


def _append(conn: Connection, run_id: str, writes: Sequence[MetricWrite]) -> None:
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
            point = stored_point(row)
            columns = tuple([value, *column] for value, column in zip(point, columns, strict=True))  # type: ignore[assignment]
            first = 0
        update = metric_update(metric_id, old + len(write.points), write)
        if update["count"] > 1:
            mine = encode_chunks(metric_id, first, columns)
            complete_blocks(conn, metric_id, old, update["count"], mine)
            chunks.extend(mine)
        row.update(
            update, has_step=row["has_step"] if row["has_step"] is not None else update["has_step"]
        )
        updates.append(update)
    execute_many(conn, _UPDATE_METRIC, updates)
    execute_many(conn, INSERT_CHUNKS, chunks)


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
        query = select(*_ROW_COLUMNS).where(metrics.c.run_id == run_id, metrics.c.name == name)
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
            return read_columns(conn, row._mapping, min_step, max_step)

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
                query = select(*_ROW_COLUMNS, metrics.c.run_id).where(
                    metrics.c.run_id.in_(chunk), metrics.c.name.in_(list(names))
                )
                rows.extend(row._mapping for row in conn.execute(query))
            found = read_series_many(conn, rows, max_points, min_step, max_step)
            return [
                MetricSeries(
                    r["run_id"], r["name"], r["kind"], int(r["count"]), *found[int(r["id"])]
                )
                for r in rows
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
