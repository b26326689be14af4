"""The values MLflow shows for a run, as SQL over its ``runs`` row (see
``runhistory.tracking.mlflow_names``): what MLflow-ordered listings sort on and filter by.

Each expression is NULL where MLflow shows nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Double,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
)
from sqlalchemy.engine import Connection

from runhistory.errors import ValidationError
from runhistory.store.sql._run_table import _document_value
from runhistory.store.sql.schema import runs
from runhistory.tracking import mlflow_names as mp
from runhistory.tracking.entities import VTYPE_BOOL, VTYPE_FLOAT, VTYPE_INT
from runhistory.tracking.run_sorting import SORT_ATTRIBUTES

NUMERIC_VTYPES = (VTYPE_FLOAT, VTYPE_INT, VTYPE_BOOL)


def latest_number(conn: Connection, metric: Any) -> ColumnElement[bool]:
    """Whether the latest value of ``metric`` (an alias of the ``metrics`` table) is a number
    other than NaN: SQLite stores NaN as NULL, PostgreSQL keeps it, and there NaN = NaN."""
    value = metric.c.last_value
    number = and_(metric.c.last_vtype.in_(NUMERIC_VTYPES), value.is_not(None))
    if conn.dialect.name == "postgresql":
        number = and_(number, value != not_a_number())
    return number


def not_a_number() -> ColumnElement[Any]:
    """NaN as a SQL double (PostgreSQL)."""
    return cast(literal("NaN"), Double)


def status() -> ColumnElement[Any]:
    """A run's MLflow status (SCHEDULED for every status before running)."""
    named = [(runs.c.status == ours, literal(theirs)) for ours, theirs in mp.MLFLOW_STATUSES]
    return case(*named, else_=literal("SCHEDULED"))


def has_tag(conn: Connection, key: str) -> ColumnElement[bool]:
    """Whether the run has its own tag ``key`` (with a value or without)."""
    if conn.dialect.name == "postgresql":
        return runs.c.tags.op("?", return_type=Boolean)(key)  # type: ignore[no-any-return]
    if '"' not in key and "\\" not in key:
        return func.json_type(runs.c.tags, f'$."{key}"').is_not(None)
    each = func.json_each(runs.c.tags).table_valued("key")
    return exists().select_from(each).where(each.c.key == key)


def tag(conn: Connection, key: str) -> ColumnElement[Any]:
    """The tag ``key`` as MLflow shows it: the run's own (``""`` when it has no value), the
    run name, parent and user read from their columns (NULL: none)."""
    if mp.hidden_run_tag(key):
        return null()
    present = has_tag(conn, key)
    own = case((present, func.coalesce(_document_value(conn, runs.c.tags, key), "")))
    if key == mp.RUN_NAME_TAG:
        named = and_(runs.c.display_name.is_not(None), runs.c.display_name != "")
        return case((named, runs.c.display_name), else_=own)
    if key == mp.PARENT_TAG:
        parent = and_(runs.c.parent_run_id.is_not(None), runs.c.parent_run_id != "")
        return case((parent, runs.c.parent_run_id), else_=own)
    if key == mp.USER_TAG:
        user = and_(runs.c.submitted_by.is_not(None), runs.c.submitted_by != "")
        return case((present, own), (user, runs.c.submitted_by), else_=null())
    return own


def start_time() -> ColumnElement[Any]:
    """When the run started (its creation until it starts), in epoch seconds."""
    return func.coalesce(runs.c.start_time, runs.c.created_time)


def attribute(conn: Connection, key: str) -> ColumnElement[Any]:
    """The attribute ``key`` of a run as MLflow shows it (NULL: none; times in seconds)."""
    if key == "start_time":
        return start_time()
    if key == "end_time":
        return runs.c.end_time
    if key == "run_id":
        return runs.c.id
    if key == "run_name":
        return func.coalesce(runs.c.display_name, "")
    if key == "status":
        return status()
    if key == "user_id":
        return func.coalesce(runs.c.submitted_by, "")
    if key == "artifact_uri":
        uri = literal("mlflow-artifacts:/").concat(runs.c.experiment_id)
        return uri.concat("/").concat(runs.c.id).concat("/artifacts")
    if key == "lifecycle_stage":
        deleted = _document_value(conn, runs.c.tags, mp.LIFECYCLE_TAG) == mp.DELETED
        return case((deleted, literal(mp.DELETED)), else_=literal(mp.ACTIVE))
    raise ValidationError(
        f"runs have no MLflow attribute {key!r}: use one of {', '.join(SORT_ATTRIBUTES)}"
    )


def param(conn: Connection, key: str) -> ColumnElement[Any]:
    """The param (property) ``key`` of a run (NULL: none)."""
    return _document_value(conn, runs.c.properties, key)
