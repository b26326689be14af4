"""Metrics in the SQL store: the reads (points are appended by _metric_writes.py).

A metric row per (run, name) holds the kind, the point count and the last value; the points
live in ``metric_chunks`` (see _chunks.py), with block summaries for charts (see
_summaries.py); a metric with one point keeps it in its row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from runhistory.errors import NotFoundError
from runhistory.store.sql._chunks import decode_value
from runhistory.store.sql._common import SqlStoreBase, chunks, require_run
from runhistory.store.sql._metric_writes import ROW_COLUMNS
from runhistory.store.sql._series import read_columns, read_series_many
from runhistory.store.sql.schema import metrics
from runhistory.tracking.entities import (
    KIND_LIST,
    KIND_SCALAR,
    MetricColumns,
    MetricInfo,
    MetricPoint,
    MetricSeries,
    SeriesX,
)
from runhistory.tracking.metrics import DOCUMENT_KINDS, decode_documents


def _to_info(row: Any) -> MetricInfo:
    last = decode_value(
        row.last_vtype, row.last_value, row.last_text, f"run {row.run_id!r}: {row.name!r}"
    )
    if row.kind in DOCUMENT_KINDS and last is not None:
        last = decode_documents([last])[0]  # the row, table... as logged, like the points
    return MetricInfo(
        run_id=row.run_id,
        name=row.name,
        kind=row.kind,
        description=row.description,
        count=int(row.count),
        has_step=None if row.has_step is None else bool(row.has_step),
        last_value=last,
        last_step=row.last_step,
        updated_time=row.updated_time,
    )


class MetricsMixin(SqlStoreBase):
    """The metric methods of :class:`~runhistory.store.sql.SqlTrackingStore`."""

    def get_metric_infos(self, run_id: str) -> list[MetricInfo]:
        def work(conn: Connection) -> list[MetricInfo]:
            require_run(conn, run_id)
            query = select(metrics).where(metrics.c.run_id == run_id).order_by(metrics.c.name)
            return [_to_info(row) for row in conn.execute(query)]

        return self._read(work)

    def get_metric_infos_page(
        self, run_id: str, limit: int, after: str | None = None, search: str | None = None
    ) -> list[MetricInfo]:
        def work(conn: Connection) -> list[MetricInfo]:
            require_run(conn, run_id)
            query = select(metrics).where(metrics.c.run_id == run_id)
            if after is not None:
                query = query.where(metrics.c.name > after)
            if search:
                found = "strpos" if conn.dialect.name == "postgresql" else "instr"
                position = getattr(func, found)(func.lower(metrics.c.name), search.lower())
                query = query.where(position > 0)
            query = query.order_by(metrics.c.name).limit(limit)
            return [_to_info(row) for row in conn.execute(query)]

        return self._read(work)

    def _metric_row(self, conn: Connection, run_id: str, name: str) -> Any:
        require_run(conn, run_id)
        query = select(*ROW_COLUMNS).where(metrics.c.run_id == run_id, metrics.c.name == name)
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
        times: tuple[float, float] | None = None,
    ) -> MetricColumns:
        def work(conn: Connection) -> MetricColumns:
            row = self._metric_row(conn, run_id, name)
            return read_columns(conn, row._mapping, min_step, max_step, times)

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
        x: SeriesX = "step",
    ) -> list[MetricSeries]:
        def work(conn: Connection) -> list[MetricSeries]:
            rows: list[Any] = []
            for chunk in chunks(list(dict.fromkeys(run_ids))):
                query = select(*ROW_COLUMNS, metrics.c.run_id).where(
                    metrics.c.run_id.in_(chunk), metrics.c.name.in_(list(names))
                )
                rows.extend(row._mapping for row in conn.execute(query))
            found = read_series_many(conn, rows, max_points, min_step, max_step, x)
            return [
                MetricSeries(
                    r["run_id"], r["name"], r["kind"], int(r["count"]), *found[int(r["id"])]
                )
                for r in rows
            ]

        return self._read(work)

    def get_last_metric_values(
        self, run_ids: Sequence[str], names: Sequence[str] | None = None, value: str = "last"
    ) -> dict[str, dict[str, Any]]:
        """Every asked run is a key of the answer, with ``{}`` if it has no such metrics."""
        if value in ("min", "max"):
            return self._extreme_values(run_ids, names, value)

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
                for run_id, name, vtype, number, text in conn.execute(query):
                    found[run_id][name] = decode_value(vtype, number, text)
            return found

        return self._read(work)

    def _extreme_values(
        self, run_ids: Sequence[str], names: Sequence[str] | None, which: str
    ) -> dict[str, dict[str, Any]]:
        column = metrics.c.min_value if which == "min" else metrics.c.max_value

        def work(conn: Connection) -> dict[str, dict[str, Any]]:
            found: dict[str, dict[str, Any]] = {run_id: {} for run_id in run_ids}
            for chunk in chunks(list(found)):
                query = select(metrics.c.run_id, metrics.c.name, column).where(
                    metrics.c.run_id.in_(chunk), column.is_not(None)
                )
                if names is not None:
                    query = query.where(metrics.c.name.in_(list(names)))
                for run_id, name, number in conn.execute(query):
                    found[run_id][name] = float(number)
            return found

        return self._read(work)
