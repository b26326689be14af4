"""Writing the changes of many runs in one transaction: the store side of write-behind runs.

The SDK queues run creations, tag and property changes, metric points and status changes;
the writer thread hands them over in batches (:meth:`ChangesMixin.write_changes`). A batch is
one transaction with a handful of statements whatever it holds. Changes of runs created in
the same batch are folded into the new rows before they are inserted, so a short run (create,
tags, properties, a few metrics, complete) costs three statements: reserve the numbers,
insert the runs, insert the metrics (and the chunks of metrics with more than one point).
They are hand-written SQL run on the driver's cursor (see _direct.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from itertools import groupby
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from runhistory.errors import InvalidMetricError, NotFoundError
from runhistory.store.sql._chunks import encode_chunks
from runhistory.store.sql._common import SqlStoreBase, require_run
from runhistory.store.sql._direct import (
    execute,
    execute_many,
    insert_rows_sql,
    insert_sql,
)
from runhistory.store.sql._metrics import INSERT_CHUNKS, _append
from runhistory.store.sql._runs import (
    _dump,
    read_documents,
    split_definition,
    store_environments,
    write_documents,
)
from runhistory.store.sql._summaries import complete_blocks
from runhistory.store.sql.schema import runs
from runhistory.tracking.entities import (
    MetricWrite,
    Refusal,
    RunCreate,
    StatusWrite,
    TagChange,
)

_RUN_FIELDS = (
    "status", "created_time", "parent_run_id", "display_name", "description", "run_type",
    "target", "submitted_by", "start_time", "end_time",
)  # fmt: skip
Documents = dict[str, tuple[dict[str, Any], dict[str, Any]]]


_RESERVE = (
    "UPDATE experiments SET next_run_number = next_run_number + :count, "
    "last_activity_time = COALESCE({greatest}(last_activity_time, :activity), :activity) "
    "WHERE id = :experiment RETURNING next_run_number"
)
_RUN_COLUMNS = (
    "id", "experiment_id", "number", "root_run_id", "error", "run_definition", "environment_id",
    "tags", "properties", *_RUN_FIELDS,
)  # fmt: skip
_INSERT_RUN = insert_sql("runs", _RUN_COLUMNS)
_METRIC_COLUMNS = (
    "run_id", "name", "kind", "description", "count", "has_step", "last_step", "last_vtype",
    "last_value", "last_text", "updated_time",
)  # fmt: skip
_INSERT_METRIC = "INSERT INTO metrics ({}) VALUES ({})".format(
    ", ".join(_METRIC_COLUMNS), ", ".join("?" * len(_METRIC_COLUMNS))
)
_METRICS_PER_INSERT = 64
_STATUS_OF = "SELECT status FROM runs WHERE id = :run"
_ROOTS = select(runs.c.id, runs.c.root_run_id).where(
    runs.c.id.in_(bindparam("ids", expanding=True))
)


def _new_rows(
    conn: Connection, creates: Sequence[RunCreate], known: set[str]
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The rows of new runs (numbered, with their root run), not inserted yet, and the ids of
    the environments inserted for them.

    ``known`` holds the ids of environments this store has stored already (skipped).
    """
    numbers: dict[str, int] = {}
    ordered = sorted(creates, key=lambda c: c.experiment_id)  # stable: keeps creation order
    for experiment_id, group in groupby(ordered, key=lambda c: c.experiment_id):
        mine = list(group)
        params = {"experiment": experiment_id, "count": len(mine),
                  "activity": max(c.created_time for c in mine)}  # fmt: skip
        found_last = execute(conn, _RESERVE, params).fetchone()
        if found_last is None:
            raise NotFoundError(
                f"no experiment with id {experiment_id!r}", experiment_id=experiment_id
            )
        first = int(found_last[0]) - len(mine) + 1
        for i, c in enumerate(mine):
            numbers[c.run_id] = first + i
    roots = _roots(conn, creates) if any(c.parent_run_id for c in creates) else {}
    rows: dict[str, dict[str, Any]] = {}
    found: list[tuple[str, str]] = []
    for c in creates:
        definition, environment = split_definition(c.run_definition)
        if environment is not None and environment[0] not in known:
            found.append(environment)
        rows[c.run_id] = {
            "id": c.run_id, "experiment_id": c.experiment_id, "number": numbers[c.run_id],
            "root_run_id": roots.get(c.run_id), "error": _dump(c.error),
            "run_definition": definition, "environment_id": environment and environment[0],
            "tags": dict(c.tags), "properties": dict(c.properties), "status": c.status,
            "created_time": c.created_time, "parent_run_id": c.parent_run_id,
            "display_name": c.display_name, "description": c.description,
            "run_type": c.run_type, "target": c.target, "submitted_by": c.submitted_by,
            "start_time": c.start_time, "end_time": c.end_time,
        }  # fmt: skip
    store_environments(conn, found)
    return rows, [environment_id for environment_id, _ in found]


def _roots(conn: Connection, creates: Sequence[RunCreate]) -> dict[str, str | None]:
    """The root run of every new child run, from the batch itself or from the store."""
    roots: dict[str, str | None] = {}
    stored_parents = sorted(
        {c.parent_run_id for c in creates if c.parent_run_id is not None}
        - {c.run_id for c in creates}
    )
    found: dict[str, str] = {}
    if stored_parents:
        for run_id, root in conn.execute(_ROOTS, {"ids": stored_parents}):
            found[run_id] = root or run_id
    for c in creates:  # a parent comes before its children in the batch
        parent = c.parent_run_id
        if parent is None:
            roots[c.run_id] = None
        elif parent in found:
            roots[c.run_id] = found[parent]
        elif parent in roots:
            roots[c.run_id] = roots[parent] or parent
        else:
            raise NotFoundError(f"no parent run with id {parent!r}", run_id=parent)
    return roots


def _apply_tags(documents: Documents, changes: Sequence[TagChange]) -> None:
    for change in changes:
        tags = documents[change.run_id][0]
        tags.update(change.set)
        for key in change.remove:
            tags.pop(key, None)


def _apply_properties(
    documents: Documents, changes: Sequence[tuple[str, dict[str, str]]]
) -> list[Refusal]:
    """Add properties whose keys are new; a key that holds another value is refused."""
    refusals: list[Refusal] = []
    for run_id, properties in changes:
        current = documents[run_id][1]
        for key, value in properties.items():
            if key not in current:
                current[key] = value
            elif current[key] != value:
                refusals.append(Refusal("property", run_id, current[key], value, key))
    return refusals


def _apply_status(row: dict[str, Any], write: StatusWrite) -> bool:
    """A status write on a row not inserted yet: what the stored compare-and-set would do."""
    if row["status"] not in write.expected:
        return False
    row["status"] = write.status
    for name, value in write.fields.items():
        if name == "start_time":
            row[name] = row[name] if row[name] is not None else value
        else:
            row[name] = _dump(value) if name == "error" else value
    return True


def _insert_rows(conn: Connection, rows: Mapping[str, dict[str, Any]]) -> None:
    execute_many(
        conn,
        _INSERT_RUN,
        [{**row, "tags": _dump(row["tags"]), "properties": _dump(row["properties"])}
         for row in rows.values()],
    )  # fmt: skip


def _metric_values(run_id: str, write: MetricWrite) -> tuple[Any, ...]:
    """The ``_METRIC_COLUMNS`` of a new metric holding all of ``write``."""
    step, vtype, value, text, at = write.points[-1]
    has_step = write.columns()[0].count(None) == 0
    return (run_id, write.name, write.kind, write.description, len(write.points), has_step,
            step, vtype, value, text, at)  # fmt: skip


def _append_new(conn: Connection, writes_by_run: Mapping[str, Sequence[MetricWrite]]) -> None:
    """Metrics of runs created in this batch: rows inserted with their counts, then chunks."""
    rows: list[tuple[str, MetricWrite]] = []
    for run_id, mine in writes_by_run.items():
        names: set[str] = set()
        for write in mine:
            if write.name in names:  # the service sends one write per name of a new run
                raise InvalidMetricError(f"metric {write.name!r} of run {run_id!r} appears twice")
            names.add(write.name)
            rows.append((run_id, write))
    # Only metrics with chunks need their new ids back (RETURNING costs a multi-row insert).
    single = [_metric_values(r, w) for r, w in rows if len(w.points) == 1]
    execute_many(conn, _INSERT_METRIC, single)
    ids: dict[tuple[str, str], int] = {}
    longer = [(r, w) for r, w in rows if len(w.points) > 1]
    for start in range(0, len(longer), _METRICS_PER_INSERT):
        part = longer[start : start + _METRICS_PER_INSERT]
        values = [value for run_id, write in part for value in _metric_values(run_id, write)]
        sql = insert_rows_sql("metrics", _METRIC_COLUMNS, len(part), "id, run_id, name")
        for metric_id, run_id, name in execute(conn, sql, values).fetchall():
            ids[(run_id, name)] = int(metric_id)
    chunks: list[dict[str, Any]] = []
    for run_id, write in rows:
        if len(write.points) == 1:
            continue  # a metric's only point stays in its row (see _metrics._append)
        metric_id = ids[(run_id, write.name)]
        encoded = encode_chunks(metric_id, 0, write.columns())
        complete_blocks(conn, metric_id, 0, len(write.points), encoded)
        chunks.extend(encoded)
    execute_many(conn, INSERT_CHUNKS, chunks)


@cache
def _status_sql(fields: tuple[str, ...], expected: tuple[str, ...]) -> str:
    """``UPDATE runs SET status, fields… WHERE id AND status IN expected`` for these fields.

    ``expected`` holds status names (checked by the service), written as literals.
    """
    sets = ["status = :p_status"]
    for name in fields:
        # A run starts once: keep the first start time.
        value = f"COALESCE(start_time, :p_{name})" if name == "start_time" else f":p_{name}"
        sets.append(f"{name} = {value}")
    allowed = ", ".join("'" + status.replace("'", "''") + "'" for status in expected)
    return f"UPDATE runs SET {', '.join(sets)} WHERE id = :p_run AND status IN ({allowed})"


def _write_statuses(conn: Connection, writes: Sequence[StatusWrite]) -> list[Refusal]:
    refusals: list[Refusal] = []
    for write in writes:
        sql = _status_sql(tuple(sorted(write.fields)), tuple(write.expected))
        params = {f"p_{k}": _dump(v) if k == "error" else v for k, v in write.fields.items()}
        params.update(p_status=write.status, p_run=write.run_id)
        if execute(conn, sql, params).rowcount:
            continue
        current = execute(conn, _STATUS_OF, {"run": write.run_id}).fetchone()
        if current is None:
            raise NotFoundError(f"no run with id {write.run_id!r}", run_id=write.run_id)
        refusals.append(Refusal("status", write.run_id, str(current[0]), write.status))
    return refusals


class ChangesMixin(SqlStoreBase):
    """``write_changes`` of :class:`~runhistory.store.sql.SqlTrackingStore`.

    The store remembers which environments it stored (they are never deleted), so the runs
    of one process insert their shared environment once.
    """

    _known_environments: set[str]

    def write_changes(
        self,
        creates: Sequence[RunCreate],
        tags: Sequence[TagChange],
        properties: Sequence[tuple[str, dict[str, str]]],
        metrics: Mapping[str, Sequence[MetricWrite]],
        statuses: Sequence[StatusWrite],
    ) -> list[Refusal]:
        known = self._known_environments
        inserted: list[str] = []  # environments stored by the batch

        def work(conn: Connection) -> list[Refusal]:
            new, environments = _new_rows(conn, creates, known) if creates else ({}, [])
            inserted[:] = environments  # a retried transaction starts over
            touched = ({c.run_id for c in tags} | {r for r, _ in properties}) - set(new)
            stored = read_documents(conn, list(touched)) if touched else {}
            for run_id in touched - set(stored):
                raise NotFoundError(f"no run with id {run_id!r}", run_id=run_id)
            documents: Documents = {r: (row["tags"], row["properties"]) for r, row in new.items()}
            documents.update(stored)
            _apply_tags(documents, tags)
            refusals = _apply_properties(documents, properties)
            later: list[StatusWrite] = []
            for write in statuses:
                row = new.get(write.run_id)
                if row is None:
                    later.append(write)
                elif not _apply_status(row, write):
                    refusals.append(Refusal("status", write.run_id, row["status"], write.status))
            _insert_rows(conn, new)
            write_documents(conn, stored)
            _append_new(conn, {r: w for r, w in metrics.items() if r in new and w})
            checked = set(new) | set(stored)
            for run_id, writes in metrics.items():
                if run_id not in new and writes:
                    if run_id not in checked:
                        require_run(conn, run_id)
                        checked.add(run_id)
                    _append(conn, run_id, writes)
            return refusals + _write_statuses(conn, later)

        refusals = self._write_hot(work)
        known.update(inserted)  # committed
        return refusals
