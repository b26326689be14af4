"""Runs in MLflow's ``order_by`` order, paged by keyset (see
:mod:`runhistory.tracking.run_sorting`).

Each term sorts on the value MLflow shows for a run (``runhistory.tracking.mlflow_names``): its
start time (the creation time until it starts), end time, name, MLflow status, user, artifact
URI, lifecycle stage or id; a param (property), a tag (the name, parent and user tags read
from their columns) or a metric's latest value. A term's key is a rank (0: a value, 1: NaN, 2:
none) and the value with NULLs and NaN replaced by a constant, so no part of the key is NULL and
the keyset comparison of :func:`~runhistory.store.sql._run_table.after_key` holds. Texts
compare byte by byte (``COLLATE "C"`` on PostgreSQL, SQLite's default), as MLflow's own store on
SQLite and Python do.

The sort reads every run of the experiments that passes the query's filters (no index covers
a property, tag or metric order): about 10,000 runs in tens of milliseconds, once per page. The
filters are SQL too (see :mod:`runhistory.store.sql._sorted_filters`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, func
from sqlalchemy.engine import Connection

from runhistory.errors import ValidationError
from runhistory.store.sql import _mlflow_values as shown
from runhistory.store.sql._run_table import Key, after_key, keyed_rows
from runhistory.store.sql._sorted_filters import filter_conditions
from runhistory.store.sql.schema import metrics, runs
from runhistory.tracking.entities import KIND_SCALAR, RunInfo
from runhistory.tracking.run_sorting import (
    ATTRIBUTE,
    METRIC,
    PARAM,
    SORT_ATTRIBUTES,
    TAG,
    SortedRunQuery,
    SortTerm,
    key_layout,
)

Join = tuple[Any, ColumnElement[bool]]


def _text(conn: Connection, value: ColumnElement[Any]) -> ColumnElement[Any]:
    """``value`` as text compared byte by byte."""
    if conn.dialect.name == "postgresql":
        return cast(value, String).collate("C")
    return cast(value, String)


def _metric(conn: Connection, key: str, index: int) -> tuple[Key, Key, Join]:
    """Rank and value of a metric's latest value, and the outer join reading it."""
    metric = metrics.alias(f"sort_metric_{index}")
    joined = and_(
        metric.c.run_id == runs.c.id, metric.c.name == key,
        metric.c.kind == KIND_SCALAR, metric.c.count > 0,
    )  # fmt: skip
    value = metric.c.last_value
    number = shown.latest_number(conn, metric)
    rank = case((number, 0), (metric.c.id.is_not(None), 1), else_=2)
    return (rank, False), (case((number, value), else_=0.0), False), (metric, joined)


def sort_keys(conn: Connection, terms: tuple[SortTerm, ...]) -> tuple[list[Key], list[Join]]:
    """The sort key of ``terms`` (MLflow's tie-breakers at the end) and the joins it needs."""
    keys: list[Key] = []
    joins: list[Join] = []
    for index, term in enumerate(terms):
        if term.kind == METRIC:
            rank, value, join = _metric(conn, term.key, index)
            keys += [rank, (value[0], term.descending)]
            joins.append(join)
            continue
        if term.kind == ATTRIBUTE:
            if term.key not in SORT_ATTRIBUTES:
                raise ValidationError(
                    f"cannot sort runs by attribute {term.key!r}: use one of "
                    f"{', '.join(SORT_ATTRIBUTES)}"
                )
            found = shown.attribute(conn, term.key)
        elif term.kind == PARAM:
            found = shown.param(conn, term.key)
        elif term.kind == TAG:
            found = shown.tag(conn, term.key)
        else:
            raise ValidationError(f"cannot sort runs by {term.kind!r}")
        missing = case((found.is_(None), 1), else_=0)
        if term.numeric:
            keys += [(missing, False), (func.coalesce(found, 0.0), term.descending)]
        else:
            keys += [(missing, False), (_text(conn, func.coalesce(found, "")), term.descending)]
    if len(key_layout(terms)) > 2 * len(terms) + 1:  # start time not among the terms
        keys.append((shown.start_time(), True))
    keys.append((_text(conn, runs.c.id), False))
    return keys, joins


def sorted_runs(
    conn: Connection, query: SortedRunQuery, select_runs: Any, to_info: Any
) -> list[tuple[RunInfo, tuple[Any, ...]]]:
    """Runs of ``query`` in its order, each with its sort key (typed as :func:`key_layout`).

    ``select_runs`` is the listing's ``SELECT`` of run columns, ``to_info`` turns one row's
    columns into a run.
    """
    keys, joins = sort_keys(conn, query.terms)
    layout = key_layout(query.terms)
    stmt = select_runs
    for table, on in joins:
        stmt = stmt.outerjoin(table, on)
    conditions: list[ColumnElement[bool]] = [runs.c.experiment_id.in_(query.experiment_ids)]
    conditions += filter_conditions(conn, query.filters, query.experiment_ids)
    if query.after is not None:
        conditions.append(after_key(keys, query.after))

    def to_key(values: list[Any]) -> tuple[Any, ...]:
        return tuple(kind(value) for value, kind in zip(values, layout, strict=True))

    rows = keyed_rows(conn, stmt, keys, conditions, query.limit, to_key)
    return [(to_info(values), key) for values, key in rows]
