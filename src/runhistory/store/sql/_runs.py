"""Runs in the SQL store: reads, search, deletion (writes go through _changes.py).

A run is one row: its tags and properties are JSON documents in it (filtered with the
database's JSON functions), and its environment — the biggest part of its definition, the
same for every run of a process — is kept once in ``environments``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.engine import Connection

from runhistory.errors import NotFoundError
from runhistory.store.sql._common import SqlStoreBase, chunks, require_experiment, require_run
from runhistory.store.sql._run_keys import PROPERTY, TAG, exact_key, indexed_value, waiting_runs
from runhistory.store.sql._run_keys import delete_runs as delete_keys
from runhistory.store.sql._run_table import (
    after_key,
    condition,
    group_value,
    keyed_rows,
    metric_number,
    order_keys,
    text_search,
)
from runhistory.store.sql._sorted_runs import sorted_runs
from runhistory.store.sql.schema import (
    environments,
    experiments,
    files,
    metric_batches,
    metric_chunks,
    metric_summaries,
    metrics,
    run_keys,
    runs,
)
from runhistory.tracking.entities import UNDECODABLE, RunGroup, RunInfo, RunQuery
from runhistory.tracking.run_environments import ENVIRONMENT
from runhistory.tracking.run_sorting import SortedRunQuery

_log = logging.getLogger("runhistory.store")
_LISTED_COLUMNS = tuple(c for c in runs.c if c.name not in ("run_definition", "environment_id"))
# A correlated subquery, not a join: the planners then drive a listing from the runs' indexes
# (newest first, no sort), whatever the number of experiments.
_EXPERIMENT_NAME = (
    select(experiments.c.name)
    .where(experiments.c.id == runs.c.experiment_id)
    .scalar_subquery()
    .label("experiment_name")
)
_RUN_COLUMNS = (*runs.c, _EXPERIMENT_NAME, environments.c.document.label("environment"))


def _select_runs(with_definition: bool = True) -> Select[Any]:
    """Runs with their experiment's name; with the definition (and environment) or without."""
    if not with_definition:
        return select(*_LISTED_COLUMNS, _EXPERIMENT_NAME)
    return select(*_RUN_COLUMNS).outerjoin(environments, environments.c.id == runs.c.environment_id)


def _to_info(values: dict[str, Any]) -> RunInfo:
    """A run record from the columns of :func:`_select_runs` (``values`` is consumed)."""
    values["run_id"] = values.pop("id")
    environment = values.pop("environment", None)
    values.pop("environment_id", None)
    if values["error"] is not None:
        values["error"] = _load(values["error"], "error", values["run_id"])
    definition = values.get("run_definition")
    if definition is not None:
        definition = _load(definition, "run_definition", values["run_id"])
    if environment is not None:
        found = _load(environment, "environment", values["run_id"])
        definition = {ENVIRONMENT: found, **(definition if isinstance(definition, dict) else {})}
    values["run_definition"] = definition
    if values["tags"] is None:
        values["tags"] = {}
    if values["properties"] is None:
        values["properties"] = {}
    return RunInfo.of(values)


def _load(text: str, field: str, run_id: str) -> Any:
    """A stored JSON document; one that cannot be decoded comes back marked (and logged)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        _log.warning("the %s of run %r cannot be decoded (%s): %.200r", field, run_id, exc, text)
        return {UNDECODABLE: text, "error": str(exc)}


def _fetch(
    conn: Connection, query: Select[Any], parameters: dict[str, Any] | None = None
) -> list[RunInfo]:
    result = conn.execute(query, parameters)
    keys = tuple(map(str, result.keys()))  # plain str (not quoted_name): orjson wants them
    return [_to_info(dict(zip(keys, row, strict=True))) for row in result]


# One run by its id, built once: building the statement (each of its columns checked) and
# its cache key cost about a third of reading a run.
_ONE_RUN = _select_runs().where(runs.c.id == bindparam("run_id"))


def _get(conn: Connection, run_id: str) -> RunInfo:
    found = _fetch(conn, _ONE_RUN, {"run_id": run_id})
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


def _filters(
    conn: Connection,
    query: RunQuery,
    driver: Driver | None = None,
    waiting: Sequence[str] | None = None,
) -> list[ColumnElement[bool]]:
    """The conditions of ``query``; with a ``driver``, its equality is read from ``run_keys``,
    or, given the ``waiting`` runs that have it (see :func:`_waiting`), from their ids."""
    conditions: list[ColumnElement[bool]] = []
    for column, wanted in (
        (runs.c.experiment_id, None if driver else query.experiment_id),
        (runs.c.parent_run_id, query.parent_run_id),
        (runs.c.root_run_id, query.root_run_id),
        (runs.c.run_type, query.run_type),
    ):
        if wanted is not None:
            conditions.append(column == wanted)
    if query.statuses is not None:
        if len(query.statuses) == 1:  # an equality: the status index keeps the order
            conditions.append(runs.c.status == query.statuses[0])
        else:
            conditions.append(runs.c.status.in_(query.statuses))
    if not query.include_children and query.parent_run_id is None and query.root_run_id is None:
        conditions.append(runs.c.parent_run_id.is_(None))
    for which, column, pairs in (
        (TAG, runs.c.tags, query.tags),
        (PROPERTY, runs.c.properties, query.properties),
    ):
        for name, equal in (pairs or {}).items():
            if equal is None or driver != (which, name, equal) or not exact_key(equal):
                conditions.append(_has_key_value(conn, column, name, equal))
    if driver is not None and waiting is not None:
        conditions.append(runs.c.id.in_(waiting))
    elif driver is not None:
        kind, key, value = driver
        conditions += [
            run_keys.c.experiment_id == query.experiment_id, run_keys.c.kind == kind,
            run_keys.c.key == key, run_keys.c.value == indexed_value(value),
        ]  # fmt: skip
    created = _order_columns(query, driver, waiting)[0]  # run_keys' copy when it leads
    if query.created_after is not None:
        conditions.append(created >= query.created_after)
    if query.created_before is not None:
        conditions.append(created < query.created_before)
    conditions += [condition(conn, found) for found in query.conditions]
    if query.text:
        conditions += text_search(conn, query.text)
    if query.after is not None:
        after = query.after
        position = (after.created_time, after.number, after.run_id)
        columns = _order_columns(query, driver, waiting)
        conditions.append(tuple_(*columns) < tuple_(*position[: len(columns)]))
    return conditions


Driver = tuple[int, str, str]


def _driver(query: RunQuery) -> Driver | None:
    """The tag or property equality that leads a listing of one experiment through
    ``run_keys`` (newest first from the index), if the query has one."""
    if query.experiment_id is None:
        return None
    for kind, wanted in ((PROPERTY, query.properties), (TAG, query.tags)):
        for key, value in (wanted or {}).items():
            if value is not None:
                return kind, key, value
    return None


def _order_columns(
    query: RunQuery, driver: Driver | None, waiting: Sequence[str] | None = None
) -> tuple[Any, ...]:
    """The listing order: created time, number, run id — without the id within one
    experiment, where numbers are unique (so the indexes on experiment, …, created time,
    number give the order without a sort)."""
    if driver is not None and waiting is None:
        return run_keys.c.created_time, run_keys.c.number
    if query.experiment_id is not None:
        return runs.c.created_time, runs.c.number
    return runs.c.created_time, runs.c.number, runs.c.id


def _listing(
    conn: Connection, query: RunQuery, stmt: Select[Any], waiting: Sequence[str] | None = None
) -> Select[Any]:
    """``stmt`` over the runs matching ``query``, newest first: of the ``run_keys`` index
    when an equality leads it, or of the ``waiting`` runs when given (see :func:`_waiting`)."""
    driver = _driver(query)
    if driver is not None and waiting is None:
        stmt = stmt.join(run_keys, run_keys.c.run_id == runs.c.id)
    return stmt.where(*_filters(conn, query, driver, waiting)).order_by(
        *(column.desc() for column in _order_columns(query, driver, waiting))
    )


def _waiting(conn: Connection, query: RunQuery) -> list[str]:
    """The runs whose keys wait (SQLite: not in ``run_keys`` yet) and have the equality that
    leads the listing of ``query`` through ``run_keys``; they are listed apart and merged."""
    driver = _driver(query)
    if driver is None:
        return []
    return waiting_runs(conn, str(query.experiment_id), *driver)


def _search(conn: Connection, query: RunQuery) -> list[RunInfo]:
    """The runs of ``query`` (its offset and limit applied), newest first."""
    columns = _select_runs(query.with_definition)
    stored = _listing(conn, query, columns)
    waiting = _waiting(conn, query)
    if not waiting:
        return _fetch(conn, stored.offset(query.offset or None).limit(query.limit))
    end = None if query.limit is None else query.offset + query.limit
    found = _fetch(conn, stored.limit(end)) + _fetch(
        conn, _listing(conn, query, columns, waiting).limit(end)
    )
    found.sort(key=lambda r: (r.created_time, r.number), reverse=True)  # one experiment
    return found[query.offset : end]


def _top_level_of_experiment(query: RunQuery) -> bool:
    """Whether ``query`` asks for nothing but the top-level runs of one experiment."""
    plain = RunQuery(experiment_id=query.experiment_id, include_children=False)
    return query.experiment_id is not None and query == plain


def _count_top_level(conn: Connection, experiment_id: str) -> int:
    """Top-level runs of an experiment: every run (counted in the experiment's index alone)
    less its children (found through the index of child runs), never reading every row."""
    every = select(func.count()).where(runs.c.experiment_id == experiment_id)
    # The experiment as an expression, so that no index of experiments is picked over the
    # (partial) index of child runs.
    same_experiment = func.coalesce(runs.c.experiment_id, "") == experiment_id
    children = select(func.count()).where(runs.c.parent_run_id.is_not(None), same_experiment)
    return int(conn.execute(every).scalar_one()) - int(conn.execute(children).scalar_one())


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
    delete_keys(conn, run_ids)
    for chunk in chunks(run_ids):
        metric_ids = select(metrics.c.id).where(metrics.c.run_id.in_(chunk))
        for points in (metric_chunks, metric_summaries):
            conn.execute(delete(points).where(points.c.metric_id.in_(metric_ids)))
        for table in (metrics, metric_batches, files):
            conn.execute(delete(table).where(table.c.run_id.in_(chunk)))
    # Deepest first, so no statement leaves a child pointing at a deleted parent.
    for chunk in chunks(list(reversed(run_ids))):
        conn.execute(delete(runs).where(runs.c.id.in_(chunk)))


def _ordered(conn: Connection, query: RunQuery) -> list[tuple[RunInfo, tuple[Any, ...]]]:
    """Runs of ``query`` in ``query.order``, each with its sort key (the keyset position)."""
    assert query.order is not None
    keys, join = order_keys(conn, query.order)
    stmt = _select_runs(query.with_definition)
    if join is not None:
        stmt = stmt.outerjoin(*join)
    conditions = _filters(conn, replace(query, after=None))
    if query.after_key is not None:
        conditions.append(after_key(keys, query.after_key))
    rows = keyed_rows(conn, stmt, keys, conditions, query.limit, tuple)
    return [(_to_info(values), key) for values, key in rows]


MAX_GROUPS = 1000


def _groups(conn: Connection, query: RunQuery, by: str, metric: str | None) -> list[RunGroup]:
    """Runs of ``query`` grouped by a property or tag value, largest groups first."""
    value = group_value(conn, by)
    columns: list[Any] = [value.label("value"), func.count().label("runs")]
    stmt = select(*columns).select_from(runs)
    if metric is not None:
        found = metrics.alias("group_metric")
        stmt = stmt.outerjoin(found, and_(found.c.run_id == runs.c.id, found.c.name == metric))
        stmt = stmt.add_columns(func.avg(metric_number(found)).label("mean"))
    # By position: the value expression has bound parameters, and PostgreSQL does not see two
    # renderings of it as one expression.
    stmt = stmt.where(*_filters(conn, replace(query, after=None))).group_by(literal_column("1"))
    stmt = stmt.order_by(literal_column("2").desc(), literal_column("1")).limit(MAX_GROUPS)
    return [
        RunGroup(
            None if row[0] is None else str(row[0]),
            int(row[1]),
            None if metric is None or row[2] is None else float(row[2]),
        )
        for row in conn.execute(stmt)
    ]


class RunsMixin(SqlStoreBase):
    """The run methods of :class:`~runhistory.store.sql.SqlTrackingStore`."""

    def get_run(self, run_id: str) -> RunInfo:
        return self._read(lambda conn: _get(conn, run_id))

    def search_runs(self, query: RunQuery) -> list[RunInfo]:
        return self._read(lambda conn: _search(conn, query))

    def search_runs_ordered(self, query: RunQuery) -> list[tuple[RunInfo, tuple[Any, ...]]]:
        def work(conn: Connection) -> list[tuple[RunInfo, tuple[Any, ...]]]:
            return _ordered(conn, query)

        return self._read(work)

    def search_runs_sorted(self, query: SortedRunQuery) -> list[tuple[RunInfo, tuple[Any, ...]]]:
        def work(conn: Connection) -> list[tuple[RunInfo, tuple[Any, ...]]]:
            return sorted_runs(conn, query, _select_runs(with_definition=False), _to_info)

        return self._read(work)

    def count_matching_runs(self, query: RunQuery) -> int:
        def work(conn: Connection) -> int:
            if _top_level_of_experiment(query):
                return _count_top_level(conn, str(query.experiment_id))
            counting = select(func.count()).select_from(runs)
            counted = _listing(conn, query, counting)
            number = int(conn.execute(counted.order_by(None)).scalar_one())
            waiting = _waiting(conn, query)
            if waiting:
                counted = _listing(conn, query, counting, waiting)
                number += int(conn.execute(counted.order_by(None)).scalar_one())
            return number

        return self._read(work)

    def group_runs(self, query: RunQuery, by: str, metric: str | None) -> list[RunGroup]:
        return self._read(lambda conn: _groups(conn, query, by, metric))

    def count_children(self, run_ids: Sequence[str]) -> dict[str, int]:
        def work(conn: Connection) -> dict[str, int]:
            found: dict[str, int] = {}
            for chunk in chunks(list(run_ids)):
                query = (
                    select(runs.c.parent_run_id, func.count())
                    .where(runs.c.parent_run_id.in_(chunk))
                    .group_by(runs.c.parent_run_id)
                )
                found.update((str(parent), int(number)) for parent, number in conn.execute(query))
            return found

        return self._read(work)

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
