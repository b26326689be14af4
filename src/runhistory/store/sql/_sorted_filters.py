"""The filters of an MLflow-ordered run listing as SQL (see
:mod:`runhistory.tracking.run_matching` for what each one means).

Each filter compares the value MLflow shows for a run (:mod:`._mlflow_values`), with Python's
results to the last case: a metric is its latest value, NaN matches only ``!=``; a time is
compared as MLflow's rounded milliseconds (half to even, as Python rounds) through bounds on
the stored seconds, so no rounding happens in SQL; ``LIKE`` is ``GLOB`` on SQLite (whose
``LIKE`` ignores ASCII case) and ``LIKE`` with its escape character escaped on PostgreSQL.

Where an index helps, the filter reads it: a metric comparison reads the run's metric row by
the ``(run_id, name)`` index, a status comparison is one on the stored status (the
experiment-and-status index), a run id one on the key. Params and tags are compared on the
run's document (see :func:`_document`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_
from sqlalchemy.engine import Connection

from runhistory.errors import ValidationError
from runhistory.store.sql import _mlflow_values as shown
from runhistory.store.sql.schema import metrics, runs
from runhistory.tracking import mlflow_names as mp
from runhistory.tracking.entities import (
    KIND_LIST,
    KIND_SCALAR,
    VTYPE_FLOAT,
    VTYPE_NAN,
)
from runhistory.tracking.run_matching import WIDE_LETTERS, RunFilter, applicable
from runhistory.tracking.run_sorting import ATTRIBUTE, METRIC, PARAM
from runhistory.tracking.run_sorting import TAG as TAG_KIND


def filter_conditions(
    conn: Connection, filters: Sequence[RunFilter], experiment_ids: Sequence[str]
) -> list[ColumnElement[bool]]:
    """The SQL of ``filters`` over the runs of ``experiment_ids``."""
    found: list[ColumnElement[bool]] = []
    for index, each in enumerate(filters):
        if not applicable(each):
            raise ValidationError(
                f"a run listing cannot filter by {each.kind} {each.key!r} {each.op} "
                f"{each.value!r:.80}"
            )
        if each.kind == METRIC:
            found.append(_metric(conn, each, index))
        elif each.kind == ATTRIBUTE:
            found.append(_attribute(conn, each))
        else:
            found.append(_document(conn, each))
    return found


def _metric(conn: Connection, each: RunFilter, index: int) -> ColumnElement[bool]:
    """The run's latest value of the metric compares (NaN: only ``!=``)."""
    metric = metrics.alias(f"filter_metric_{index}")
    value = metric.c.last_value
    # SQLite stores NaN as NULL; PostgreSQL keeps it, and there NaN = NaN.
    nan = or_(metric.c.last_vtype == VTYPE_NAN,
              and_(metric.c.last_vtype == VTYPE_FLOAT, value.is_(None)))  # fmt: skip
    if conn.dialect.name == "postgresql":
        nan = or_(nan, and_(metric.c.last_vtype == VTYPE_FLOAT, value == shown.not_a_number()))
    number = shown.latest_number(conn, metric)
    compared = or_(nan, and_(number, value != each.value)) if each.op == "!=" else and_(
        number, _compare(value, each.op, each.value))  # fmt: skip
    return exists().where(
        metric.c.run_id == runs.c.id, metric.c.name == each.key,
        metric.c.kind.in_((KIND_SCALAR, KIND_LIST)), metric.c.count > 0, compared,
    )  # fmt: skip


def _compare(value: ColumnElement[Any], op: str, wanted: Any) -> ColumnElement[bool]:
    comparisons: dict[str, ColumnElement[bool]] = {
        "=": value == wanted, "!=": value != wanted, "<": value < wanted,
        "<=": value <= wanted, ">": value > wanted, ">=": value >= wanted,
    }  # fmt: skip
    return comparisons[op]


def _attribute(conn: Connection, each: RunFilter) -> ColumnElement[bool]:
    if each.key in ("start_time", "end_time"):
        seconds = shown.attribute(conn, each.key)
        return _milliseconds(seconds * 1000, each.op, float(each.value))
    if each.key == "status" and each.op in ("=", "!=", "IN", "NOT IN"):
        return _status(each)
    if each.key == "run_id" and each.op == "=":
        matching: ColumnElement[bool] = runs.c.id == each.value
        return matching
    return _text(conn, shown.attribute(conn, each.key), each.op, each.value)


def _milliseconds(value: ColumnElement[Any], op: str, wanted: float) -> ColumnElement[bool]:
    """``round(value) <op> wanted``, rounding half to even, as bounds on ``value``."""

    def at_least(bound: int) -> ColumnElement[bool]:  # round(value) >= bound
        return value >= bound - 0.5 if bound % 2 == 0 else value > bound - 0.5

    def at_most(bound: int) -> ColumnElement[bool]:  # round(value) <= bound
        return value <= bound + 0.5 if bound % 2 == 0 else value < bound + 0.5

    if op == ">":
        return at_least(math.floor(wanted) + 1)
    if op == ">=":
        return at_least(math.ceil(wanted))
    if op == "<":
        return at_most(math.ceil(wanted) - 1)
    if op == "<=":
        return at_most(math.floor(wanted))
    equal = and_(at_least(int(wanted)), at_most(int(wanted))) if wanted.is_integer() else false()
    if op == "=":
        return equal
    return and_(value.is_not(None), not_(equal))


def _status(each: RunFilter) -> ColumnElement[bool]:
    """A comparison of MLflow statuses as one of the stored statuses."""
    wanted = set(each.value) if each.op in ("IN", "NOT IN") else {each.value}
    mapped = [ours for ours, _ in mp.MLFLOW_STATUSES]
    chosen = [ours for ours, theirs in mp.MLFLOW_STATUSES if theirs in wanted]
    if "SCHEDULED" in wanted:  # every status not mapped is SCHEDULED
        matching = or_(runs.c.status.not_in(mapped), runs.c.status.in_(chosen))
    else:
        matching = runs.c.status.in_(chosen) if chosen else false()
    return not_(matching) if each.op in ("!=", "NOT IN") else matching


def _document(conn: Connection, each: RunFilter) -> ColumnElement[bool]:
    """A param's or tag's comparison, on the run's document.

    No ``run_keys`` lookup: a sorted listing reads every run of its experiments anyway, and
    a semi-join with the index, planned on a fresh database's missing statistics as a nested
    loop, took PostgreSQL 100 s for 10,000 runs (the document check takes milliseconds).
    """
    if each.kind == PARAM:
        value = shown.param(conn, each.key)
    elif each.kind == TAG_KIND:
        value = shown.tag(conn, each.key)
    else:
        raise ValidationError(f"cannot filter runs by {each.kind!r}")
    return _text(conn, value, each.op, each.value)


def _text(conn: Connection, value: ColumnElement[Any], op: str, wanted: Any) -> ColumnElement[bool]:
    """A comparison of a text (NULL, where MLflow shows none, matches only ``IS NULL``)."""
    if op == "IS NULL":
        return value.is_(None)
    if op == "IS NOT NULL":
        return value.is_not(None)
    if op == "IN":
        return value.in_(list(wanted))
    if op == "NOT IN":
        return and_(value.is_not(None), value.not_in(list(wanted)))
    if op == "LIKE":
        return _like(conn, value, wanted)
    if op == "ILIKE":
        return _ilike(conn, value, wanted)
    if op in ("=", "!="):
        return _compare(value, op, wanted)
    raise ValidationError(f"cannot compare texts with {op!r}")


def _like(conn: Connection, value: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
    """``value`` matches the pattern case by case (``%``: any text, ``_``: one character)."""
    if conn.dialect.name == "postgresql":
        return value.like(pattern.replace("\\", "\\\\"))
    glob = "".join(
        "*" if c == "%" else "?" if c == "_" else f"[{c}]" if c in "*?[" else c for c in pattern
    )
    return value.op("GLOB")(glob)


def _ilike(conn: Connection, value: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
    """``value`` matches the pattern ignoring case. Letters whose case goes beyond ASCII
    match any one character here (see :func:`~runhistory.tracking.run_matching.exact`)."""
    loose = "".join("_" if not c.isascii() or c in WIDE_LETTERS else c for c in pattern)
    if conn.dialect.name == "postgresql":
        return value.ilike(loose.replace("\\", "\\\\"))
    return value.like(loose)  # SQLite's LIKE ignores the case of ASCII letters
