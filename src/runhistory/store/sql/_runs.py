"""Runs in the SQL store: creation with atomic numbering, updates, search, deletion.

A run is one row: its tags and properties are JSON documents in it (filtered with the
database's JSON functions), and its environment — the biggest part of its definition, the
same for every run of a process — is kept once in ``environments``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from runhistory.errors import ConflictError, NotFoundError, ValidationError
from runhistory.store.sql._common import (
    SqlStoreBase,
    chunks,
    require_experiment,
)
from runhistory.store.sql._direct import execute_many, insert_sql
from runhistory.store.sql.schema import (
    environments,
    experiments,
    files,
    metric_batches,
    metric_chunks,
    metric_summaries,
    metrics,
    runs,
)
from runhistory.tracking.entities import RunInfo, RunQuery

UPDATABLE_FIELDS = frozenset(
    {
        "status", "start_time", "end_time", "heartbeat_time", "display_name", "description",
        "snapshot_id", "error", "run_definition", "target",
    }
)  # fmt: skip
_ENVIRONMENT = "environment"
_LISTED_COLUMNS = tuple(c for c in runs.c if c.name not in ("run_definition", "environment_id"))
_RUN_COLUMNS = (*runs.c, experiments.c.name.label("experiment_name"),
                environments.c.document.label("environment"))  # fmt: skip


def _select_runs(with_definition: bool = True) -> Select[Any]:
    """Runs with their experiment's name; with the definition (and environment) or without."""
    if not with_definition:
        listed = select(*_LISTED_COLUMNS, experiments.c.name.label("experiment_name"))
        return listed.join(experiments, experiments.c.id == runs.c.experiment_id)
    return (
        select(*_RUN_COLUMNS)
        .join(experiments, experiments.c.id == runs.c.experiment_id)
        .outerjoin(environments, environments.c.id == runs.c.environment_id)
    )


def _dump(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def split_definition(definition: Any) -> tuple[str | None, tuple[str, str] | None]:
    """A run definition as stored: the rest as JSON text, and ``(id, JSON)`` of its
    environment when it has one (the id is the SHA-256 of the canonical JSON).

    The SDK hands every run of a process the very same environment object (it is never
    changed), so the last one's encoding is kept and reused when the object comes again.
    """
    if not isinstance(definition, Mapping) or _ENVIRONMENT not in definition:
        return _dump(definition), None
    global _last_environment
    value = definition[_ENVIRONMENT]
    last = _last_environment  # one read: another thread may replace it meanwhile
    if last is not None and last[0] is value:
        environment = last[1]
    else:
        document = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        environment = (hashlib.sha256(document).hexdigest(), document.decode())
        _last_environment = (value, environment)  # holds the object: its id stays unique
    if len(definition) == 1:
        return None, environment
    rest = {k: v for k, v in definition.items() if k != _ENVIRONMENT}
    return _dump(rest), environment


# The last environment object seen and its (id, JSON).
_last_environment: tuple[Any, tuple[str, str]] | None = None


_INSERT_ENVIRONMENT = insert_sql(
    "environments", ("id", "document", "created_time"), " ON CONFLICT DO NOTHING"
)


def store_environments(conn: Connection, found: Sequence[tuple[str, str]]) -> None:
    """Insert environments (``(id, JSON)``) that are not stored yet."""
    now = time.time()
    rows = {env_id: {"id": env_id, "document": doc, "created_time": now} for env_id, doc in found}
    execute_many(conn, _INSERT_ENVIRONMENT, list(rows.values()))


def _row_values(fields: dict[str, Any], conn: Connection | None = None) -> dict[str, Any]:
    """Column values of updatable run fields (a definition's environment is stored apart)."""
    unknown = sorted(set(fields) - UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError(f"run fields {unknown} cannot be updated", fields=unknown)
    values = {k: _dump(v) if k == "error" else v for k, v in fields.items()}
    if "run_definition" in fields:
        rest, environment = split_definition(fields["run_definition"])
        values["run_definition"] = rest
        values["environment_id"] = None if environment is None else environment[0]
        if environment is not None and conn is not None:
            store_environments(conn, [environment])
    return values


def _to_info(values: dict[str, Any]) -> RunInfo:
    """A run record from the columns of :func:`_select_runs` (``values`` is consumed)."""
    values["run_id"] = values.pop("id")
    environment = values.pop("environment", None)
    values.pop("environment_id", None)
    if values["error"] is not None:
        values["error"] = orjson.loads(values["error"])
    definition = values.get("run_definition")
    if definition is not None:
        definition = orjson.loads(definition)
    if environment is not None:
        definition = {_ENVIRONMENT: orjson.loads(environment), **(definition or {})}
    values["run_definition"] = definition
    if values["tags"] is None:
        values["tags"] = {}
    if values["properties"] is None:
        values["properties"] = {}
    return RunInfo.of(values)


def _fetch(conn: Connection, query: Select[Any]) -> list[RunInfo]:
    result = conn.execute(query)
    keys = tuple(map(str, result.keys()))  # plain str (not quoted_name): orjson wants them
    return [_to_info(dict(zip(keys, row, strict=True))) for row in result]


def _get(conn: Connection, run_id: str) -> RunInfo:
    found = _fetch(conn, _select_runs().where(runs.c.id == run_id))
    if not found:
        raise NotFoundError(f"no run with id {run_id!r}", run_id=run_id)
    return found[0]


def _json_path_key(key: str) -> bool:
    """Whether SQLite's JSON path syntax (``$."key"``) can name this key."""
    return '"' not in key and "\\" not in key


def _has_key_value(
    conn: Connection, column: Any, key: str, value: str | None
) -> ColumnElement[bool]:
    """The run's document in ``column`` has ``key`` (with ``value`` when given)."""
    if conn.dialect.name == "postgresql":
        if value is None:
            return column.op("?", return_type=Boolean)(key)  # type: ignore[no-any-return]
        return column[key].as_string() == value  # type: ignore[no-any-return]
    if _json_path_key(key):
        path = f'$."{key}"'
        if value is None:
            return func.json_type(column, path).is_not(None)
        return func.json_extract(column, path) == value
    each = func.json_each(column).table_valued("key", "value")
    condition = exists().select_from(each).where(each.c.key == key)
    return condition.where(each.c.value == value) if value is not None else condition


def _filters(conn: Connection, query: RunQuery) -> list[ColumnElement[bool]]:
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
        conditions.append(_has_key_value(conn, runs.c.tags, key, value))
    for key, value in (query.properties or {}).items():
        conditions.append(_has_key_value(conn, runs.c.properties, key, value))
    return conditions


def read_documents(conn: Connection, run_ids: Sequence[str]) -> dict[str, tuple[dict, dict]]:
    """``{run id: (tags, properties)}`` of stored runs, locked for update on PostgreSQL."""
    found: dict[str, tuple[dict, dict]] = {}
    for chunk in chunks(sorted(set(run_ids))):
        query = select(runs.c.id, runs.c.tags, runs.c.properties).where(runs.c.id.in_(chunk))
        for run_id, tags, properties in conn.execute(query.with_for_update()):
            found[run_id] = (dict(tags or {}), dict(properties or {}))
    return found


def _one_document(conn: Connection, run_id: str) -> tuple[dict, dict]:
    found = read_documents(conn, [run_id])
    if run_id not in found:
        raise NotFoundError(f"no run with id {run_id!r}", run_id=run_id)
    return found[run_id]


_SET_DOCUMENTS = (
    update(runs)
    .where(runs.c.id == bindparam("p_run"))
    .values(tags=bindparam("p_tags"), properties=bindparam("p_properties"))
)


def write_documents(conn: Connection, documents: Mapping[str, tuple[dict, dict]]) -> None:
    """Store the tags and properties documents of stored runs."""
    if documents:
        rows = [{"p_run": r, "p_tags": t, "p_properties": p} for r, (t, p) in documents.items()]
        conn.execute(_SET_DOCUMENTS, rows)


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
        for points in (metric_chunks, metric_summaries):
            conn.execute(delete(points).where(points.c.metric_id.in_(metric_ids)))
        for table in (metrics, metric_batches, files):
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
        def work(conn: Connection) -> RunInfo:
            values = {
                "id": run_id, "experiment_id": experiment_id, "status": status,
                "created_time": created_time, "parent_run_id": parent_run_id,
                "display_name": display_name, "description": description, "run_type": run_type,
                "target": target, "submitted_by": submitted_by, "tags": dict(tags or {}),
                "properties": dict(properties or {}), **_row_values(fields, conn),
            }  # fmt: skip
            if conn.execute(select(runs.c.id).where(runs.c.id == run_id)).first() is not None:
                raise ConflictError(f"a run with id {run_id!r} already exists", run_id=run_id)
            root = _root_of(conn, parent_run_id)
            number = _next_number(conn, experiment_id, created_time)
            try:
                conn.execute(insert(runs).values(**values, number=number, root_run_id=root))
            except IntegrityError as exc:  # another process inserted the same id meanwhile
                raise ConflictError(f"a run with id {run_id!r} already exists") from exc
            return _get(conn, run_id)

        return self._write(work)

    def get_run(self, run_id: str) -> RunInfo:
        return self._read(lambda conn: _get(conn, run_id))

    def update_run(self, run_id: str, **fields: Any) -> RunInfo:
        def work(conn: Connection) -> RunInfo:
            values = _row_values(fields, conn)
            if values:
                stmt = update(runs).where(runs.c.id == run_id).values(**values)
                if conn.execute(stmt).rowcount == 0:
                    raise NotFoundError(f"no run with id {run_id!r}", run_id=run_id)
            return _get(conn, run_id)

        return self._write(work)

    def compare_and_set_status(
        self, run_id: str, expected: Sequence[str], status: str, **fields: Any
    ) -> RunInfo | None:
        def work(conn: Connection) -> RunInfo | None:
            values = _row_values({**fields, "status": status}, conn)
            if "start_time" in values:  # a run starts once: keep the first start time
                values["start_time"] = func.coalesce(runs.c.start_time, values["start_time"])
            stmt = (
                update(runs)
                .where(runs.c.id == run_id, runs.c.status.in_(list(expected)))
                .values(**values)
            )
            if conn.execute(stmt).rowcount == 0:
                if conn.execute(select(runs.c.id).where(runs.c.id == run_id)).first() is None:
                    raise NotFoundError(f"no run with id {run_id!r}", run_id=run_id)
                return None
            return _get(conn, run_id)

        return self._write(work)

    def search_runs(self, query: RunQuery) -> list[RunInfo]:
        def work(conn: Connection) -> list[RunInfo]:
            stmt = (
                _select_runs(query.with_definition)
                .where(*_filters(conn, query))
                .order_by(runs.c.created_time.desc(), runs.c.number.desc(), runs.c.id.desc())
                .offset(query.offset or None)
                .limit(query.limit)
            )
            return _fetch(conn, stmt)

        return self._read(work)

    def count_runs(self, experiment_id: str) -> int:
        def work(conn: Connection) -> int:
            require_experiment(conn, experiment_id)
            query = select(func.count()).where(runs.c.experiment_id == experiment_id)
            return int(conn.execute(query).scalar_one())

        return self._read(work)

    def delete_run(self, run_id: str) -> None:
        def work(conn: Connection) -> None:
            _one_document(conn, run_id)
            _delete_runs(conn, _descendants(conn, run_id))

        self._write(work)

    def set_run_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        def work(conn: Connection) -> None:
            current, properties = _one_document(conn, run_id)
            write_documents(conn, {run_id: ({**current, **tags}, properties)})

        self._write(work)

    def remove_run_tags(self, run_id: str, keys: Sequence[str]) -> None:
        def work(conn: Connection) -> None:
            current, properties = _one_document(conn, run_id)
            kept = {k: v for k, v in current.items() if k not in set(keys)}
            if kept != current:
                write_documents(conn, {run_id: (kept, properties)})

        self._write(work)

    def add_run_properties(self, run_id: str, properties: dict[str, str]) -> None:
        def work(conn: Connection) -> None:
            tags, current = _one_document(conn, run_id)
            added = {k: v for k, v in properties.items() if k not in current}
            if added:
                write_documents(conn, {run_id: (tags, {**current, **added})})

        self._write(work)
