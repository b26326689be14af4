"""What the studio's runs table asks of a listing: comparisons, free text and sort orders.

Built as SQL over the ``runs`` row (tags and properties are JSON documents in it) and, for a
metric, its ``metrics`` row (the last value is kept there by the write path). The default
order (newest first) and the status, experiment and ``key == value`` filters stay on the
listing indexes; the expressions here are not indexed: a comparison, a free-text search or an
order by a property, tag or metric reads every run of the listing's experiment once per page
(about 20,000 runs in tens of milliseconds).

An ordered listing is paged by keyset over its sort key (see :func:`order_keys`), which ends
with the run number (unique in an experiment), never by an offset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Double,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import FromClause

from runhistory.errors import ValidationError
from runhistory.store.sql.schema import metrics, runs
from runhistory.tracking.entities import (
    VTYPE_BOOL,
    VTYPE_FLOAT,
    VTYPE_INT,
    VTYPE_STR,
    RunCondition,
    RunOrder,
)
from runhistory.tracking.run_filters import BUILT_IN_ORDERS, KINDS, NUMBER

# A number PostgreSQL can cast without overflow (at most 30 digits, a two-digit exponent).
_PG_NUMBER = NUMBER.pattern
_NUMERIC_VTYPES = (VTYPE_FLOAT, VTYPE_INT, VTYPE_BOOL)
OPERATORS = ("<", "<=", ">", ">=", "=", "!=")
METRIC_ALIAS = "sort_metric"
Key = tuple[ColumnElement[Any], bool]  # an expression and whether it descends


def as_number(text: str) -> float | None:
    """``text`` as a number when it reads as one (the same rule as the SQL of both databases)."""
    return float(text) if NUMBER.match(text) else None


def _document_value(conn: Connection, column: Any, key: str) -> ColumnElement[Any]:
    """The text of ``key`` in a run's JSON document (NULL when missing or JSON null)."""
    if conn.dialect.name == "postgresql":
        return column[key].as_string()  # type: ignore[no-any-return]
    if '"' not in key and "\\" not in key:
        return func.json_extract(column, f'$."{key}"')
    each = func.json_each(column).table_valued("key", "value")
    return select(each.c.value).where(each.c.key == key).limit(1).scalar_subquery()


def _numeric(conn: Connection, value: ColumnElement[Any]) -> ColumnElement[Any]:
    """``value`` as a number when it reads as one, else NULL.

    PostgreSQL checks the text with a regular expression before casting (a cast of a
    non-number fails); SQLite (no regular expressions) takes a text made only of digits,
    signs, dots and exponents with at least one digit, and casts it leniently.
    """
    if conn.dialect.name == "postgresql":
        return case((value.op("~")(_PG_NUMBER), cast(value, Double)), else_=null())
    text = cast(value, String)
    plausible = and_(func.trim(text, " 0123456789.eE+-") == "", text.op("GLOB")("*[0-9]*"))
    return case((plausible, cast(text, Double)), else_=null())


def _document(kind: str) -> Any:
    if kind == "property":
        return runs.c.properties
    if kind == "tag":
        return runs.c.tags
    raise ValidationError(f"cannot filter on {kind!r}: use property, tag or metric", kind=kind)


def _compare(
    number: ColumnElement[Any], text: ColumnElement[Any], op: str, target: str
) -> ColumnElement[bool]:
    wanted = as_number(target)
    if wanted is None:
        if op == "=":
            return text == target
        if op == "!=":
            return text != target
        raise ValidationError(f"{op} needs a number, not {target!r}", value=target)
    numeric = {
        "<": number < wanted, "<=": number <= wanted, ">": number > wanted,
        ">=": number >= wanted, "=": number == wanted, "!=": number != wanted,
    }[op]  # fmt: skip
    if op in ("=", "!="):  # a value that is not a number compares as text
        as_text = text == target if op == "=" else text != target
        return or_(numeric, and_(number.is_(None), as_text))
    return numeric


def condition(conn: Connection, found: RunCondition) -> ColumnElement[bool]:
    """The SQL of one comparison (see :class:`~runhistory.tracking.entities.RunCondition`)."""
    if found.op not in OPERATORS:
        raise ValidationError(f"unknown comparison {found.op!r}: use one of {OPERATORS}")
    if found.kind in ("metric", "min", "max"):
        metric = metrics.alias("filter_metric")
        number, text = _metric_value(metric, found.kind)
        return exists().where(
            metric.c.run_id == runs.c.id, metric.c.name == found.key,
            _compare(number, text, found.op, found.value),
        )  # fmt: skip
    value = _document_value(conn, _document(found.kind), found.key)
    return _compare(_numeric(conn, value), value, found.op, found.value)


def _metric_value(metric: Any, kind: str) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """A metric's number and text: its last value (``metric``), or its smallest or largest
    numeric value (``min``, ``max``; no text)."""
    if kind == "min":
        return metric.c.min_value, null()
    if kind == "max":
        return metric.c.max_value, null()
    number = case((metric.c.last_vtype.in_(_NUMERIC_VTYPES), metric.c.last_value))
    return number, case((metric.c.last_vtype == VTYPE_STR, metric.c.last_text))


def group_value(conn: Connection, by: str) -> ColumnElement[Any]:
    """The property or tag value runs are grouped by (``property:<key>`` or ``tag:<key>``)."""
    kind, _, key = by.partition(":")
    if kind not in ("property", "tag") or not key:
        raise ValidationError(f"cannot group runs by {by!r}: use property:<key> or tag:<key>")
    return _document_value(conn, _document(kind), key)


def metric_number(metric: Any) -> ColumnElement[Any]:
    """A metric row's last value when it is a number (else NULL)."""
    return case((metric.c.last_vtype.in_(_NUMERIC_VTYPES), metric.c.last_value))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_search(conn: Connection, text: str) -> list[ColumnElement[bool]]:
    """Every word of ``text`` appears (ignoring case) in the run's name, id, number, status,
    type, tags or properties."""
    document = String() if conn.dialect.name == "postgresql" else None
    fields = [
        func.coalesce(runs.c.display_name, ""), runs.c.id, runs.c.status, runs.c.run_type,
        literal("#") + cast(runs.c.number, String),
        cast(runs.c.tags, document) if document is not None else runs.c.tags,
        cast(runs.c.properties, document) if document is not None else runs.c.properties,
    ]  # fmt: skip
    haystack = func.lower(func.concat_ws(" ", *fields)) if conn.dialect.name == "postgresql" \
        else func.lower(_joined(fields))  # fmt: skip
    return [haystack.like(_like(word.lower()), escape="\\") for word in text.split()]


def _joined(fields: list[Any]) -> ColumnElement[Any]:
    joined: ColumnElement[Any] = fields[0]
    for field in fields[1:]:
        joined = joined.op("||")(" ").op("||")(field)
    return joined


def check_order(order: RunOrder) -> None:
    """Refuse an order the listing cannot sort by."""
    column = order.column
    kind, _, key = column.partition(":")
    if column in BUILT_IN_ORDERS or (kind in KINDS and key):
        return
    raise ValidationError(
        f"cannot sort runs by {column!r}: use one of {', '.join(BUILT_IN_ORDERS)}, "
        "property:<key>, tag:<key> or metric:<name>",
        sort=column,
    )


def _ranked(
    rank: ColumnElement[Any], number: ColumnElement[Any], text: ColumnElement[Any], desc: bool
) -> list[Key]:
    return [(rank, False), (func.coalesce(number, 0.0), desc), (func.coalesce(text, ""), desc)]


Join = tuple[FromClause, ColumnElement[bool]]


def order_keys(conn: Connection, order: RunOrder) -> tuple[list[Key], Join | None]:
    """The sort key of ``order`` (ending with the run number) and the table to outer-join for
    it (a metric's row), if any. No part of the key is NULL, so keyset comparisons hold."""
    check_order(order)
    desc, column = order.desc, order.column
    number_key: Key = (runs.c.number, desc)
    if column == "created":
        return [(runs.c.created_time, desc), number_key], None
    if column == "number":
        return [number_key], None
    if column == "name":
        return [(func.lower(func.coalesce(runs.c.display_name, "")), desc), number_key], None
    if column == "status":
        return [(runs.c.status, desc), number_key], None
    if column == "start":
        return [(func.coalesce(runs.c.start_time, runs.c.created_time), desc), number_key], None
    if column == "duration":
        took = runs.c.end_time - runs.c.start_time
        rank = case((took.is_(None), 1), else_=0)
        return [(rank, False), (func.coalesce(took, 0.0), desc), number_key], None
    kind, _, key = column.partition(":")
    if kind in ("metric", "min", "max"):
        metric = metrics.alias(METRIC_ALIAS)
        joined = (metric, and_(metric.c.run_id == runs.c.id, metric.c.name == key))
        number, text = _metric_value(metric, kind)
        rank = case((number.is_not(None), 0), (text.is_not(None), 1), else_=2)
        return [*_ranked(rank, number, text, desc), number_key], joined
    value = _document_value(conn, _document(kind), key)
    numeric = _numeric(conn, value)
    rank = case((numeric.is_not(None), 0), (value.is_not(None), 1), else_=2)
    return [*_ranked(rank, numeric, value, desc), number_key], None


def after_key(keys: list[Key], values: tuple[Any, ...]) -> ColumnElement[bool]:
    """Rows strictly after the row whose sort key is ``values`` (mixed directions allowed)."""
    if len(values) != len(keys):
        raise ValidationError(
            "invalid page_token: it belongs to another order", parameter="page_token"
        )
    alternatives = []
    for index, (expression, desc) in enumerate(keys):
        equal = [keys[i][0] == values[i] for i in range(index)]
        beyond = expression < values[index] if desc else expression > values[index]
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives)


def keyed_rows(
    conn: Connection,
    stmt: Any,
    keys: list[Key],
    conditions: list[ColumnElement[bool]],
    limit: int | None,
    to_key: Callable[[list[Any]], tuple[Any, ...]],
) -> list[tuple[dict[str, Any], tuple[Any, ...]]]:
    """Rows of ``stmt`` (a ``SELECT`` of run columns) meeting ``conditions`` in the order of
    ``keys``, at most ``limit``: each row's columns by name, and its sort key (the keyset
    position of the next page) made by ``to_key`` from the key expressions' values."""
    labels = [f"sort_key_{i}" for i in range(len(keys))]
    stmt = stmt.add_columns(
        *(expression.label(label) for (expression, _), label in zip(keys, labels, strict=True))
    )
    ordering = [expression.desc() if desc else expression.asc() for expression, desc in keys]
    result = conn.execute(stmt.where(*conditions).order_by(*ordering).limit(limit))
    names = tuple(map(str, result.keys()))
    found = []
    for row in result:
        values = dict(zip(names, row, strict=True))
        found.append((values, to_key([values.pop(label) for label in labels])))
    return found
