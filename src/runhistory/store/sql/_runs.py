"""Runs in the SQL store: creation with atomic numbering, updates, search, deletion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Row, Select, delete, exists, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from runhistory.errors import ConflictError, NotFoundError, ValidationError
from runhistory.store.sql._common import (
    SqlStoreBase,
    add_key_values,
    chunks,
    load_key_values,
    remove_keys,
    require_experiment,
    require_run,
    set_key_values,
)
from runhistory.store.sql.schema import (
    VALUE_PREFIX_LENGTH,
    experiments,
    files,
    metric_batches,
    metric_chunks,
    metrics,
    run_properties,
    run_tags,
    runs,
    value_prefix,
)
from runhistory.tracking.entities import RunInfo, RunQuery

UPDATABLE_FIELDS = frozenset(
    {
        "status", "start_time", "end_time", "heartbeat_time", "display_name", "description",
        "snapshot_id", "error", "run_definition", "target",
    }
)  # fmt: skip
_JSON_FIELDS = ("error", "run_definition")
_RUN_COLUMNS = (*runs.c, experiments.c.name.label("experiment_name"))


def _select_runs() -> Select[Any]:
    return select(*_RUN_COLUMNS).join(experiments, experiments.c.id == runs.c.experiment_id)


def _dump(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _row_values(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError(f"run fields {unknown} cannot be updated", fields=unknown)
    return {k: _dump(v) if k in _JSON_FIELDS else v for k, v in fields.items()}


def _to_info(row: Row[Any], tags: dict[str, Any], properties: dict[str, Any]) -> RunInfo:
    values = dict(row._mapping)
    values["run_id"] = values.pop("id")
    for name in _JSON_FIELDS:
        if values[name] is not None:
            values[name] = orjson.loads(values[name])
    return RunInfo(**values, tags=tags, properties=properties)


def _fetch(conn: Connection, query: Select[Any]) -> list[RunInfo]:
    rows = conn.execute(query).all()
    ids = [row.id for row in rows]
    tags = load_key_values(conn, run_tags, "run_id", ids)
    properties = load_key_values(conn, run_properties, "run_id", ids)
    return [_to_info(row, tags.get(row.id, {}), properties.get(row.id, {})) for row in rows]


def _get(conn: Connection, run_id: str) -> RunInfo:
    found = _fetch(conn, _select_runs().where(runs.c.id == run_id))
    if not found:
        raise NotFoundError(f"no run with id {run_id!r}", run_id=run_id)
    return found[0]


def _has_key_value(table: Any, key: str, value: str | None) -> ColumnElement[bool]:
    condition = exists().where(table.c.run_id == runs.c.id, table.c.key == key)
    if value is not None:
        # The indexed prefix narrows, the full value decides. (coalesce keeps SQLite from
        # propagating the constant into the prefix expression, which hides the index.)
        condition = condition.where(
            value_prefix(table.c.value) == value[:VALUE_PREFIX_LENGTH],
            func.coalesce(table.c.value, "") == value,
        )
    return condition


def _filters(query: RunQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for column, wanted in (
        (runs.c.experiment_id, query.experiment_id),
        (runs.c.parent_run_id, query.parent_run_id),
        (runs.c.root_run_id, query.root_run_id),
        (runs.c.run_type, query.run_type),
    ):
        if wanted is not None:
            conditions.append(column == wanted)
    if query.statuses is not None:
        conditions.append(runs.c.status.in_(query.statuses))
    if not query.include_children and query.parent_run_id is None and query.root_run_id is None:
        conditions.append(runs.c.parent_run_id.is_(None))
    for key, value in (query.tags or {}).items():
        conditions.append(_has_key_value(run_tags, key, value))
    for key, value in (query.properties or {}).items():
        conditions.append(_has_key_value(run_properties, key, value))
    return conditions


def _next_number(conn: Connection, experiment_id: str, created_time: float) -> int:
    stmt = (
        update(experiments)
        .where(experiments.c.id == experiment_id)
        .values(
            next_run_number=experiments.c.next_run_number + 1,
            last_activity_time=func.coalesce(
                func.max(experiments.c.last_activity_time, created_time)
                if conn.dialect.name == "sqlite"
                else func.greatest(experiments.c.last_activity_time, created_time),
                created_time,
            ),
        )
        .returning(experiments.c.next_run_number)
    )
    number = conn.execute(stmt).scalar()
    if number is None:
        raise NotFoundError(f"no experiment with id {experiment_id!r}", experiment_id=experiment_id)
    return int(number)


def _root_of(conn: Connection, parent_run_id: str | None) -> str | None:
    if parent_run_id is None:
        return None
    query = select(runs.c.root_run_id).where(runs.c.id == parent_run_id)
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"no parent run with id {parent_run_id!r}", run_id=parent_run_id)
    return str(row.root_run_id or parent_run_id)


def _descendants(conn: Connection, run_id: str) -> list[str]:
    found, frontier = [run_id], [run_id]
    while frontier:
        children: list[str] = []
        for chunk in chunks(frontier):
            query = select(runs.c.id).where(runs.c.parent_run_id.in_(chunk))
            children.extend(conn.execute(query).scalars())
        found.extend(children)
        frontier = children
    return found


def _delete_runs(conn: Connection, run_ids: Sequence[str]) -> None:
    for chunk in chunks(run_ids):
        metric_ids = select(metrics.c.id).where(metrics.c.run_id.in_(chunk))
        conn.execute(delete(metric_chunks).where(metric_chunks.c.metric_id.in_(metric_ids)))
        for table in (metrics, metric_batches, run_tags, run_properties, files):
            conn.execute(delete(table).where(table.c.run_id.in_(chunk)))
    # Deepest first, so no statement leaves a child pointing at a deleted parent.
    for chunk in chunks(list(reversed(run_ids))):
        conn.execute(delete(runs).where(runs.c.id.in_(chunk)))


class RunsMixin(SqlStoreBase):
    """The run methods of :class:`~runhistory.store.sql.SqlTrackingStore`."""

    def create_run(
        self,
        run_id: str,
        experiment_id: str,
        status: str,
        created_time: float,
        parent_run_id: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        run_type: str = "experimentrun",
        target: str = "local",
        submitted_by: str | None = None,
        tags: dict[str, str | None] | None = None,
        properties: dict[str, str] | None = None,
        **fields: Any,
    ) -> RunInfo:
        values = {
            "id": run_id, "experiment_id": experiment_id, "status": status,
            "created_time": created_time, "parent_run_id": parent_run_id,
            "display_name": display_name, "description": description, "run_type": run_type,
            "target": target, "submitted_by": submitted_by, **_row_values(fields),
        }  # fmt: skip

        def work(conn: Connection) -> RunInfo:
            if conn.execute(select(runs.c.id).where(runs.c.id == run_id)).first() is not None:
                raise ConflictError(f"a run with id {run_id!r} already exists", run_id=run_id)
            root = _root_of(conn, parent_run_id)
            number = _next_number(conn, experiment_id, created_time)
            try:
                conn.execute(insert(runs).values(**values, number=number, root_run_id=root))
            except IntegrityError as exc:  # another process inserted the same id meanwhile
                raise ConflictError(f"a run with id {run_id!r} already exists") from exc
            set_key_values(conn, run_tags, {"run_id": run_id}, tags or {})
            add_key_values(conn, run_properties, {"run_id": run_id}, properties or {})
            return _get(conn, run_id)

        return self._write(work)

    def get_run(self, run_id: str) -> RunInfo:
        return self._read(lambda conn: _get(conn, run_id))

    def update_run(self, run_id: str, **fields: Any) -> RunInfo:
        values = _row_values(fields)

        def work(conn: Connection) -> RunInfo:
            if values:
                stmt = update(runs).where(runs.c.id == run_id).values(**values)
                if conn.execute(stmt).rowcount == 0:
                    raise NotFoundError(f"no run with id {run_id!r}", run_id=run_id)
            return _get(conn, run_id)

        return self._write(work)

    def compare_and_set_status(
        self, run_id: str, expected: Sequence[str], status: str, **fields: Any
    ) -> RunInfo | None:
        values = _row_values({**fields, "status": status})
        if "start_time" in values:  # a run starts once: keep the first start time
            values["start_time"] = func.coalesce(runs.c.start_time, values["start_time"])

        def work(conn: Connection) -> RunInfo | None:
            stmt = (
                update(runs)
                .where(runs.c.id == run_id, runs.c.status.in_(list(expected)))
                .values(**values)
            )
            if conn.execute(stmt).rowcount == 0:
                require_run(conn, run_id)
                return None
            return _get(conn, run_id)

        return self._write(work)

    def search_runs(self, query: RunQuery) -> list[RunInfo]:
        stmt = (
            _select_runs()
            .where(*_filters(query))
            .order_by(runs.c.created_time.desc(), runs.c.number.desc(), runs.c.id.desc())
            .offset(query.offset or None)
            .limit(query.limit)
        )
        return self._read(lambda conn: _fetch(conn, stmt))

    def count_runs(self, experiment_id: str) -> int:
        def work(conn: Connection) -> int:
            require_experiment(conn, experiment_id)
            query = select(func.count()).where(runs.c.experiment_id == experiment_id)
            return int(conn.execute(query).scalar_one())

        return self._read(work)

    def delete_run(self, run_id: str) -> None:
        def work(conn: Connection) -> None:
            require_run(conn, run_id)
            _delete_runs(conn, _descendants(conn, run_id))

        self._write(work)

    def set_run_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        def work(conn: Connection) -> None:
            require_run(conn, run_id)
            set_key_values(conn, run_tags, {"run_id": run_id}, tags)

        self._write(work)

    def remove_run_tags(self, run_id: str, keys: Sequence[str]) -> None:
        def work(conn: Connection) -> None:
            require_run(conn, run_id)
            remove_keys(conn, run_tags, {"run_id": run_id}, keys)

        self._write(work)

    def add_run_properties(self, run_id: str, properties: dict[str, str]) -> None:
        def work(conn: Connection) -> None:
            require_run(conn, run_id)
            add_key_values(conn, run_properties, {"run_id": run_id}, properties)

        self._write(work)
