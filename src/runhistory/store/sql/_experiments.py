"""Experiments in the SQL store."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, tuple_, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from runhistory.errors import ExperimentArchivedError, NotFoundError, ValidationError
from runhistory.store.base import UNCHANGED
from runhistory.store.sql._common import (
    SqlStoreBase,
    load_key_values,
    remove_keys,
    require_experiment,
    set_key_values,
)
from runhistory.store.sql._run_keys import PROPERTY, TAG, waiting_key_counts
from runhistory.store.sql._run_keys import delete_experiment as delete_keys
from runhistory.store.sql.schema import (
    experiment_tags,
    experiments,
    files,
    metric_batches,
    metric_chunks,
    metric_summaries,
    metrics,
    run_keys,
    runs,
    saved_views,
)
from runhistory.tracking.entities import ExperimentInfo, ExperimentSummary, KeyCount

VIEW_TYPES = ("ActiveOnly", "ArchivedOnly", "All")


def _name_taken(name: str) -> ExperimentArchivedError:
    return ExperimentArchivedError(f"an active experiment named {name!r} already exists", name=name)


def _to_info(row: Row[Any], tags: dict[str, str | None]) -> ExperimentInfo:
    return ExperimentInfo(
        experiment_id=row.id,
        name=row.name,
        created_time=row.created_time,
        archived_time=row.archived_time,
        tags=tags,
        last_activity_time=row.last_activity_time,
    )


def _fetch(conn: Connection, query: Any) -> list[ExperimentInfo]:
    rows = conn.execute(query).all()
    tags = load_key_values(conn, experiment_tags, "experiment_id", [row.id for row in rows])
    return [_to_info(row, tags.get(row.id, {})) for row in rows]


def _get(conn: Connection, experiment_id: str) -> ExperimentInfo:
    found = _fetch(conn, select(experiments).where(experiments.c.id == experiment_id))
    if not found:
        raise NotFoundError(f"no experiment with id {experiment_id!r}", experiment_id=experiment_id)
    return found[0]


class ExperimentsMixin(SqlStoreBase):
    """The experiment methods of :class:`~runhistory.store.sql.SqlTrackingStore`."""

    def create_experiment(
        self, name: str, tags: dict[str, str | None] | None = None
    ) -> ExperimentInfo:
        experiment_id = uuid.uuid4().hex

        def work(conn: Connection) -> ExperimentInfo:
            values = {"id": experiment_id, "name": name, "created_time": time.time()}
            try:
                conn.execute(insert(experiments).values(**values))
            except IntegrityError as exc:
                raise _name_taken(name) from exc
            set_key_values(conn, experiment_tags, {"experiment_id": experiment_id}, tags or {})
            return _get(conn, experiment_id)

        return self._write(work)

    def get_experiment(self, experiment_id: str) -> ExperimentInfo:
        return self._read(lambda conn: _get(conn, experiment_id))

    def get_experiment_by_name(self, name: str, archived: bool = False) -> ExperimentInfo:
        query = select(experiments).where(experiments.c.name == name)
        if archived:
            query = query.where(experiments.c.archived_time.is_not(None))
            query = query.order_by(experiments.c.archived_time.desc()).limit(1)
        else:
            query = query.where(experiments.c.archived_time.is_(None))
        found = self._read(lambda conn: _fetch(conn, query))
        if not found:
            state = "archived" if archived else "active"
            raise NotFoundError(f"no {state} experiment named {name!r}", name=name)
        return found[0]

    def list_experiments(
        self, name: str | None = None, view_type: str = "ActiveOnly"
    ) -> list[ExperimentInfo]:
        if view_type not in VIEW_TYPES:
            raise ValidationError(
                f"view_type must be one of {', '.join(VIEW_TYPES)}, not {view_type!r}"
            )
        query = select(experiments).order_by(experiments.c.created_time, experiments.c.name)
        if name is not None:
            query = query.where(experiments.c.name == name)
        if view_type == "ActiveOnly":
            query = query.where(experiments.c.archived_time.is_(None))
        elif view_type == "ArchivedOnly":
            query = query.where(experiments.c.archived_time.is_not(None))
        return self._read(lambda conn: _fetch(conn, query))

    def list_experiments_page(
        self,
        name: str | None = None,
        view_type: str = "ActiveOnly",
        after: tuple[float, str, str] | None = None,
        limit: int = 100,
    ) -> list[ExperimentInfo]:
        if view_type not in VIEW_TYPES:
            raise ValidationError(
                f"view_type must be one of {', '.join(VIEW_TYPES)}, not {view_type!r}"
            )
        table = experiments.c
        query = select(experiments).order_by(table.created_time, table.name, table.id)
        if name is not None:
            query = query.where(table.name == name)
        if view_type == "ActiveOnly":
            query = query.where(table.archived_time.is_(None))
        elif view_type == "ArchivedOnly":
            query = query.where(table.archived_time.is_not(None))
        if after is not None:
            query = query.where(tuple_(table.created_time, table.name, table.id) > tuple_(*after))
        return self._read(lambda conn: _fetch(conn, query.limit(limit)))

    def update_experiment(
        self, experiment_id: str, name: str = UNCHANGED, archived_time: float | None = UNCHANGED
    ) -> ExperimentInfo:
        values: dict[str, Any] = {}
        if name is not UNCHANGED:
            values["name"] = name
        if archived_time is not UNCHANGED:
            values["archived_time"] = archived_time

        def work(conn: Connection) -> ExperimentInfo:
            current = _get(conn, experiment_id)
            if values:
                stmt = update(experiments).where(experiments.c.id == experiment_id)
                try:
                    conn.execute(stmt.values(**values))
                except IntegrityError as exc:
                    raise _name_taken(values.get("name", current.name)) from exc
            return _get(conn, experiment_id)

        return self._write(work)

    def set_experiment_tags(self, experiment_id: str, tags: dict[str, str | None]) -> None:
        def work(conn: Connection) -> None:
            require_experiment(conn, experiment_id)
            set_key_values(conn, experiment_tags, {"experiment_id": experiment_id}, tags)

        self._write(work)

    def remove_experiment_tags(self, experiment_id: str, keys: Sequence[str]) -> None:
        def work(conn: Connection) -> None:
            require_experiment(conn, experiment_id)
            remove_keys(conn, experiment_tags, {"experiment_id": experiment_id}, keys)

        self._write(work)

    def summarize_experiment(self, experiment_id: str) -> ExperimentSummary:
        def work(conn: Connection) -> ExperimentSummary:
            require_experiment(conn, experiment_id)
            counted = select(func.count()).where(runs.c.experiment_id == experiment_id)
            keys = (
                select(run_keys.c.kind, run_keys.c.key, func.count())
                .where(run_keys.c.experiment_id == experiment_id)
                .group_by(run_keys.c.kind, run_keys.c.key)
                .order_by(run_keys.c.kind, run_keys.c.key)
            )
            counts: dict[tuple[int, str], int] = {}
            for kind, key, number in conn.execute(keys):
                counts[kind, key] = number
            waiting = waiting_key_counts(conn, experiment_id)  # SQLite: sorted alike in Python
            for kind, key, number in waiting:
                counts[kind, key] = counts.get((kind, key), 0) + number
            found: dict[int, list[KeyCount]] = {TAG: [], PROPERTY: []}
            for (kind, key), number in sorted(counts.items()) if waiting else counts.items():
                found[kind].append(KeyCount(key, number))
            names = (
                select(metrics.c.name, func.count())
                .select_from(metrics.join(runs, runs.c.id == metrics.c.run_id))
                .where(runs.c.experiment_id == experiment_id)
                .group_by(metrics.c.name)
                .order_by(metrics.c.name)
            )
            return ExperimentSummary(
                experiment_id, int(conn.execute(counted).scalar_one()), found[TAG],
                found[PROPERTY], [KeyCount(name, number) for name, number in conn.execute(names)],
            )  # fmt: skip

        return self._read(work)

    def delete_experiment(self, experiment_id: str) -> None:
        def work(conn: Connection) -> None:
            require_experiment(conn, experiment_id)
            run_ids = select(runs.c.id).where(runs.c.experiment_id == experiment_id)
            metric_ids = select(metrics.c.id).where(metrics.c.run_id.in_(run_ids))
            for points in (metric_chunks, metric_summaries):
                conn.execute(delete(points).where(points.c.metric_id.in_(metric_ids)))
            for table in (metrics, metric_batches, files):
                conn.execute(delete(table).where(table.c.run_id.in_(run_ids)))
            delete_keys(conn, experiment_id)
            conn.execute(delete(saved_views).where(saved_views.c.experiment_id == experiment_id))
            conn.execute(delete(runs).where(runs.c.experiment_id == experiment_id))
            conn.execute(
                delete(experiment_tags).where(experiment_tags.c.experiment_id == experiment_id)
            )
            conn.execute(delete(experiments).where(experiments.c.id == experiment_id))

        self._write(work)
