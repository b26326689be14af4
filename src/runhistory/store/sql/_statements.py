"""Every statement of the write path, from the tables of ``schema.py`` (see _direct.py).

Each function builds a SQLAlchemy Core statement for a dialect (and a shape: which fields,
how many rows); :func:`~runhistory.store.sql._direct.statement` compiles it once and caches the
SQL text. Column lists come from the ``Table`` objects, so a column added to the schema is
written by the inserts without touching this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    String,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy import column as column_of
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlalchemy.sql import sqltypes
from sqlalchemy.sql.expression import Executable

from runhistory.store.sql._direct import statement
from runhistory.store.sql.schema import (
    environments,
    experiments,
    metric_batches,
    metric_chunks,
    metrics,
    run_keys,
    runs,
)

RUN_COLUMNS = tuple(c.name for c in runs.c)
METRIC_COLUMNS = tuple(c.name for c in metrics.c if not c.primary_key)  # the id is made
CHUNK_COLUMNS = tuple(c.name for c in metric_chunks.c)


def _insert(dialect: str, table: Table) -> Any:
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _greatest(dialect: str, *args: Any) -> Any:
    return func.greatest(*args) if dialect == "postgresql" else func.max(*args)


def _reserve_numbers(dialect: str) -> Executable:
    """Reserve ``:count`` run numbers of an experiment; returns the last one."""
    activity: BindParameter[Any] = bindparam("activity")
    last = experiments.c.last_activity_time
    return (
        update(experiments)
        .where(experiments.c.id == bindparam("experiment"))
        .values(
            next_run_number=experiments.c.next_run_number + bindparam("count"),
            last_activity_time=func.coalesce(_greatest(dialect, last, activity), activity),
        )
        .returning(experiments.c.next_run_number)
    )


def _reserve_numbers_apart(dialect: str) -> Executable:
    """:func:`_reserve_numbers` for a reservation committed on its own (PostgreSQL): its
    commit does not wait for the WAL to reach the disk (``synchronous_commit`` off for that
    transaction alone, set by the statement itself).

    Nothing stored depends on that wait: a reservation is only used by a run stored in a
    later transaction, whose own (synchronous) commit flushes the WAL up to its commit record,
    which lies after the reservation's, so a stored run's number survives a crash with it. A
    crash before that may lose the reservation, and with it only numbers no run holds.
    """
    off: Any = literal_column("set_config('synchronous_commit', 'off', true)")
    result: Executable = _reserve_numbers(dialect).returning(off)  # type: ignore[attr-defined]
    return result


def _insert_runs(dialect: str) -> Executable:
    """A run row, every column named (``:id``, ``:experiment_id`` …)."""
    return insert(runs)


def _insert_environments(dialect: str) -> Executable:
    """An environment (``:id``, ``:document``, ``:created_time``) unless stored already."""
    result: Executable = _insert(dialect, environments).on_conflict_do_nothing()
    return result


def _update_runs(dialect: str, fields: tuple[str, ...]) -> Executable:
    """Overwrite ``fields`` of run ``:p_run`` (parameters ``:p_<field>``)."""
    values: dict[str, Any] = {name: bindparam(f"p_{name}") for name in fields}
    return update(runs).where(runs.c.id == bindparam("p_run")).values(**values)


def _set_status(dialect: str, fields: tuple[str, ...], expected: tuple[str, ...]) -> Executable:
    """Move run ``:p_run`` to ``:p_status`` with ``fields``, only from ``expected`` statuses
    (one or more; their values are carried by the compiled statement).

    A run starts once: a ``start_time`` is only written when the run has none.
    """
    values: dict[str, Any] = {"status": bindparam("p_status")}
    for name in fields:
        value: BindParameter[Any] = bindparam(f"p_{name}")
        values[name] = func.coalesce(runs.c.start_time, value) if name == "start_time" else value
    allowed: list[Any] = [bindparam(f"expected_{i}", status) for i, status in enumerate(expected)]
    return (
        update(runs)
        .where(runs.c.id == bindparam("p_run"), runs.c.status.in_(allowed))
        .values(**values)
    )


def _status_of(dialect: str) -> Executable:
    """The status of run ``:run``."""
    return select(runs.c.status).where(runs.c.id == bindparam("run"))


def _insert_metrics(dialect: str, count: int) -> Executable:
    """``count`` metric rows, values positional in :data:`METRIC_COLUMNS` order, row after
    row; returns ``(id, run_id, name)`` of each."""
    rows: list[dict[str, Any]] = [
        {name: bindparam(f"{name}_{i}") for name in METRIC_COLUMNS} for i in range(count)
    ]
    return insert(metrics).values(rows).returning(metrics.c.id, metrics.c.run_id, metrics.c.name)


def _insert_metric_rows(dialect: str, count: int) -> Executable:
    """``count`` metric rows in one statement, values positional in :data:`METRIC_COLUMNS`
    order, row after row (no ``RETURNING``)."""
    rows: list[dict[str, Any]] = [
        {name: bindparam(f"{name}_{i}") for name in METRIC_COLUMNS} for i in range(count)
    ]
    return insert(metrics).values(rows)


def _insert_metric(dialect: str) -> Executable:
    """One metric row, values positional in :data:`METRIC_COLUMNS` order (for executemany)."""
    return insert(metrics).values({name: bindparam(name) for name in METRIC_COLUMNS}).inline()


def _from_json_rows(
    table: Table, names: Sequence[str], parameter: str = "rows", numbers: Any = None
) -> Any:
    """``SELECT`` of ``names`` columns of ``table`` from one JSON array of row objects (the
    parameter ``:rows``; PostgreSQL's ``json_to_recordset``). Strings are read as VARCHAR
    without their length (a longer value is refused by the insert, not cut); JSON documents
    come as text and are cast, as a bound text parameter would be.

    ``numbers``: a one-row ``base`` of run numbers (see :func:`_insert_new_runs_numbered`),
    added to every ``number`` read; no row there selects no row."""
    columns, documents = [], set()
    for name in names:
        kind = table.c[name].type
        if isinstance(kind, String):
            kind = String()
        elif isinstance(kind, sqltypes.JSON):
            kind = Text()
            documents.add(name)
        columns.append(column_of(name, kind))
    rows = func.json_to_recordset(cast(bindparam(parameter), JSON)).table_valued(*columns)
    found = rows.render_derived(name="r", with_types=True)
    selected = [
        cast(c, JSONB) if c.name in documents
        else (c + numbers.c.base).label(c.name) if numbers is not None and c.name == "number"
        else c
        for c in found.c
    ]  # fmt: skip
    if numbers is None:
        return select(*selected)
    return select(*selected).join_from(found, numbers, literal_column("true"))


def _insert_metrics_json(dialect: str) -> Executable:
    """Metric rows from one JSON array (``:rows``, objects of :data:`METRIC_COLUMNS`;
    PostgreSQL): one execution for the new metrics of any number of runs."""
    return insert(metrics).from_select(
        list(METRIC_COLUMNS), _from_json_rows(metrics, METRIC_COLUMNS)
    )


def _insert_runs_json(dialect: str) -> Executable:
    """Run rows from one JSON array (``:rows``, objects naming every column of ``runs``,
    documents as JSON text; PostgreSQL): one execution for any number of new runs."""
    return insert(runs).from_select(list(RUN_COLUMNS), _from_json_rows(runs, RUN_COLUMNS))


def _claim_batches_json(dialect: str) -> Executable:
    """Record batch ids (``:rows``, objects of ``run_id``, ``batch_id``, ``created_time``;
    PostgreSQL) unless recorded before: the rows inserted tell how many were not there."""
    names = ("run_id", "batch_id", "created_time")
    result: Executable = (
        postgresql.insert(metric_batches)
        .from_select(list(names), _from_json_rows(metric_batches, names))
        .on_conflict_do_nothing()
    )
    return result


def _insert_new_runs(dialect: str) -> Executable:
    """Everything a batch of new runs writes, in one statement (PostgreSQL), each kind of
    row from one JSON array: ``:environments`` (kept when stored already), ``:runs``,
    ``:keys`` (``run_keys``), ``:metrics`` (single-point metrics) and ``:claims`` (batch ids;
    one recorded before breaks the primary key, which refuses the statement as a whole).

    Each insert is a data-modifying ``WITH`` part of the last one; PostgreSQL runs every
    part once, and checks the foreign keys at the statement's end."""
    environment = ("id", "document", "created_time")
    claim = ("run_id", "batch_id", "created_time")
    keys = tuple(c.name for c in run_keys.c)
    parts = {
        "environments": postgresql.insert(environments)
        .from_select(list(environment), _from_json_rows(environments, environment, "environments"))
        .on_conflict_do_nothing(),
        "runs": insert(runs).from_select(
            list(RUN_COLUMNS), _from_json_rows(runs, RUN_COLUMNS, "runs")
        ),
        "keys": insert(run_keys).from_select(list(keys), _from_json_rows(run_keys, keys, "keys")),
        "metrics": insert(metrics).from_select(
            list(METRIC_COLUMNS), _from_json_rows(metrics, METRIC_COLUMNS, "metrics")
        ),
    }
    last = insert(metric_batches).from_select(
        list(claim), _from_json_rows(metric_batches, claim, "claims")
    )
    result: Executable = last.add_cte(*(part.cte(f"new_{name}") for name, part in parts.items()))
    return result


def _insert_new_runs_numbered(dialect: str) -> Executable:
    """:func:`_insert_new_runs` that also reserves the runs' numbers (PostgreSQL): the runs of
    one experiment (``:experiment``; ``:count`` runs, ``:activity`` their last creation time)
    are numbered by the statement itself, ``number`` of ``:runs`` and ``:keys`` counting
    from 1 within the batch. Returns the experiment's number before the batch; no row (and
    nothing but new environments stored) when the experiment does not exist."""
    environment = ("id", "document", "created_time")
    claim = ("run_id", "batch_id", "created_time")
    keys = tuple(c.name for c in run_keys.c)
    base = (experiments.c.next_run_number - bindparam("count")).label("base")
    reserved = _reserve_numbers(dialect).returning(base).cte("reserved")  # type: ignore[attr-defined]

    def numbered(table: Table, names: Sequence[str], parameter: str) -> Any:
        return _from_json_rows(table, names, parameter, reserved)

    parts = {
        "environments": postgresql.insert(environments)
        .from_select(list(environment), _from_json_rows(environments, environment, "environments"))
        .on_conflict_do_nothing(),
        "runs": insert(runs).from_select(list(RUN_COLUMNS), numbered(runs, RUN_COLUMNS, "runs")),
        "keys": insert(run_keys).from_select(list(keys), numbered(run_keys, keys, "keys")),
        "metrics": insert(metrics).from_select(
            list(METRIC_COLUMNS), numbered(metrics, METRIC_COLUMNS, "metrics")
        ),
        "claims": insert(metric_batches).from_select(
            list(claim), numbered(metric_batches, claim, "claims")
        ),
    }
    last = select(reserved.c.base)
    result: Executable = last.add_cte(
        reserved, *(part.cte(f"new_{name}") for name, part in parts.items())
    )
    return result


def _new_metric(dialect: str) -> Executable:
    """An empty metric row (``:run_id``, ``:name``, ``:kind``, ``:description``) unless the
    run has one of that name."""
    columns = ("run_id", "name", "kind", "description")
    values: dict[str, Any] = {name: bindparam(name) for name in columns}
    result: Executable = (
        _insert(dialect, metrics).values(**values).on_conflict_do_nothing().inline()
    )
    return result


def _update_metric(dialect: str) -> Executable:
    """The count and last point of metric ``:id`` (``has_step`` is kept once known)."""
    last = ("count", "last_step", "last_vtype", "last_value", "last_text", "updated_time",
            "min_value", "max_value")  # fmt: skip
    values: dict[str, Any] = {name: bindparam(name) for name in last}
    values["has_step"] = func.coalesce(metrics.c.has_step, bindparam("has_step"))
    return update(metrics).where(metrics.c.id == bindparam("id")).values(**values)


def _insert_chunks(dialect: str) -> Executable:
    """A chunk row, every column named."""
    return insert(metric_chunks)


def _claim_batch(dialect: str) -> Executable:
    """Record metric batch ``:batch_id`` of run ``:run_id``; returns it unless it was there."""
    result: Executable = (
        _insert(dialect, metric_batches)
        .on_conflict_do_nothing()
        .returning(metric_batches.c.batch_id)
    )
    return result


def _claim_batches(dialect: str) -> Executable:
    """Record batch ``:batch_id`` of run ``:run_id`` (one of many: the rows inserted tell
    how many were not there)."""
    result: Executable = _insert(dialect, metric_batches).on_conflict_do_nothing()
    return result


def _claim_stored(dialect: str) -> Executable:
    """Record batch ``:batch_id`` of run ``:run_id`` if that run is stored; returns it unless
    it was there or the run is missing. A concurrent first try of the same batch holds the
    key: PostgreSQL makes this wait for its end, then finds it (or takes it, after a rollback).
    """
    source = select(
        runs.c.id, bindparam("batch_id", type_=metric_batches.c.batch_id.type),
        bindparam("created_time", type_=metric_batches.c.created_time.type),
    ).where(runs.c.id == bindparam("run_id", type_=runs.c.id.type))  # fmt: skip
    result: Executable = (
        _insert(dialect, metric_batches)
        .from_select(["run_id", "batch_id", "created_time"], source)
        .on_conflict_do_nothing()
        .returning(metric_batches.c.batch_id)
    )
    return result


RESERVE_NUMBERS = statement(_reserve_numbers)
RESERVE_NUMBERS_APART = statement(_reserve_numbers_apart)
INSERT_RUNS = statement(_insert_runs)
INSERT_ENVIRONMENTS = statement(_insert_environments)
UPDATE_RUNS = statement(_update_runs)
SET_STATUS = statement(_set_status)
STATUS_OF = statement(_status_of)
INSERT_METRICS = statement(_insert_metrics, positional=True)
INSERT_METRIC = statement(_insert_metric, positional=True)
INSERT_METRIC_ROWS = statement(_insert_metric_rows, positional=True)
INSERT_METRICS_JSON = statement(_insert_metrics_json)
INSERT_RUNS_JSON = statement(_insert_runs_json)
CLAIM_BATCHES_JSON = statement(_claim_batches_json)
INSERT_NEW_RUNS = statement(_insert_new_runs)
INSERT_NEW_RUNS_NUMBERED = statement(_insert_new_runs_numbered)
NEW_METRIC = statement(_new_metric)
UPDATE_METRIC = statement(_update_metric)
INSERT_CHUNKS = statement(_insert_chunks)
CLAIM_BATCH = statement(_claim_batch)
CLAIM_STORED = statement(_claim_stored)
CLAIM_BATCHES = statement(_claim_batches)
