"""New runs in one statement (PostgreSQL): a batch that only creates runs and changes them.

A short run reaches the store as one batch: its creation, tags, properties, a few single-point
metrics and its final status (and a server stores such batches of concurrent requests as one
group). Its writes are the environment (when new to this store), the run rows, their keys,
their metrics and the batch ids, each kind from one JSON array. Here they go out as one
statement of data-modifying ``WITH`` parts, committed on its own: one round trip to the
database instead of five with ``BEGIN`` and ``COMMIT``. When the batch's runs belong to one
experiment (nearly always) the statement reserves their numbers too (see :mod:`._run_numbers`):
the numbers in its rows count from 1 and it adds the experiment's counter; else they are
reserved just before. One statement is all or nothing like the transaction it replaces; its
commit waits for the disk as every transaction of stored data does.

Any other batch (one that changes stored runs, claims metric batch ids of its own, holds a
metric of several points, or a value JSON cannot carry as it is) takes the usual path.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from runhistory.errors import ConflictError, InvalidMetricError, NotFoundError
from runhistory.store.sql._direct import execute, json_rows
from runhistory.store.sql._metric_writes import metric_json_row
from runhistory.store.sql._run_keys import key_rows
from runhistory.store.sql._run_writes import (
    Documents,
    apply_properties,
    apply_status,
    apply_tags,
    new_rows,
    row_values,
    run_exists,
)
from runhistory.store.sql._statements import INSERT_NEW_RUNS, INSERT_NEW_RUNS_NUMBERED
from runhistory.tracking.entities import Refusal, WriteBatch, WriteOutcome


def in_one_statement(batch: WriteBatch) -> bool:
    """Whether ``batch`` only creates runs and changes those (its metrics single points)."""
    if not batch.creates or batch.updates or batch.batch_ids:
        return False
    new = {c.run_id for c in batch.creates}
    if any(c.parent_run_id is not None and c.parent_run_id not in new for c in batch.creates):
        return False  # a stored parent's root is read first
    for part in (batch.tags, batch.properties, batch.statuses):
        if any(change.run_id not in new for change in part):
            return False
    for run_id, writes in batch.metrics.items():
        if run_id not in new or any(len(w.points) != 1 for w in writes):
            return False
    return True


def one_experiment(batch: WriteBatch) -> bool:
    """Whether every run ``batch`` creates belongs to one experiment (nearly every batch)."""
    experiment = batch.creates[0].experiment_id
    return all(c.experiment_id == experiment for c in batch.creates)


def write_new_runs(
    conn: Connection,
    batch: WriteBatch,
    known: set[str],
    numbers: dict[str, int] | None,
    inserted: list[str],
) -> WriteOutcome | None:
    """Store ``batch`` (see :func:`in_one_statement`) in one statement on ``conn``, outside any
    transaction (committed as it runs); ``inserted`` receives the ids of the environments it
    stored. None, with nothing done, when a value cannot travel as JSON.

    ``numbers``: the runs' numbers, reserved before; None: the statement reserves them (the
    runs of one experiment, see :func:`one_experiment`).

    Raises:
        ConflictError: a run id or a batch id was stored before (nothing is stored).
        InvalidMetricError: a run logs a metric name twice.
        NotFoundError: the experiment does not exist (nothing is stored).
    """
    creates = batch.creates
    reserve = numbers is None
    if numbers is None:  # counted from 1 here; the statement adds the experiment's base
        numbers = {c.run_id: i for i, c in enumerate(creates, 1)}
    environments: list[tuple[str, str]] = []
    new, found = new_rows(conn, creates, known, numbers, environments)
    documents: Documents = {r: (row["tags"], row["properties"]) for r, row in new.items()}
    apply_tags(documents, batch.tags)
    outcome = WriteOutcome(refusals=apply_properties(documents, batch.properties))
    for write in batch.statuses:
        row = new[write.run_id]
        if not apply_status(row, write):
            outcome.refusals.append(Refusal("status", write.run_id, row["status"], write.status))
    params = _parameters(batch, new, environments)
    if params is None:
        return None
    base: tuple[Any, ...] | None = ()
    try:
        if reserve:
            experiment = creates[0].experiment_id
            reservation = {"experiment": experiment, "count": len(creates),
                           "activity": max(c.created_time for c in creates)}  # fmt: skip
            with execute(conn, INSERT_NEW_RUNS_NUMBERED, {**params, **reservation}) as done:
                base = done.fetchone()
        else:
            execute(conn, INSERT_NEW_RUNS, params).close()
    except IntegrityError as exc:
        if getattr(getattr(exc.orig, "diag", None), "table_name", None) == "runs":
            raise run_exists(new) from exc  # the only unique key new rows can break: the id
        raise ConflictError("a batch of the group was stored before") from exc
    if base is None:
        experiment = creates[0].experiment_id
        raise NotFoundError(f"no experiment with id {experiment!r}", experiment_id=experiment)
    inserted[:] = found
    return outcome


def _parameters(
    batch: WriteBatch, new: dict[str, dict[str, Any]], environments: Sequence[tuple[str, str]]
) -> dict[str, str] | None:
    now = time.time()
    metrics: list[dict[str, Any]] = []
    for run_id, writes in batch.metrics.items():
        names: set[str] = set()
        for write in writes:
            if write.name in names:  # as the usual path refuses it
                raise InvalidMetricError(f"metric {write.name!r} of run {run_id!r} appears twice")
            names.add(write.name)
            metrics.append(metric_json_row(run_id, write))
    claims = list(batch.claims)
    if batch.claim is not None:
        claims.append(batch.claim)
    keys = [k for row in new.values() for k in key_rows(row, row["tags"], row["properties"])]
    found = {
        "environments": json_rows([{"id": e, "document": d, "created_time": now}
                                   for e, d in environments]),
        "runs": json_rows(row_values(new)),
        "keys": orjson.dumps(keys).decode(),
        "metrics": json_rows(metrics),
        "claims": json_rows([{"run_id": r, "batch_id": b, "created_time": now}
                             for r, b in claims]),
    }  # fmt: skip
    if any(value is None for value in found.values()):
        return None
    return found  # type: ignore[return-value]
