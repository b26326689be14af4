"""Writing runs: the run half of the write path (see _changes.py).

New runs are numbered per experiment in one statement per experiment and inserted together;
their environment (the biggest part of a run definition, the same for every run of a
process) is stored once in ``environments``. Tags and properties are JSON documents on the
run row: changes to stored runs read them locked, apply in memory, and write them back.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from runhistory.errors import ConflictError, NotFoundError, ValidationError
from runhistory.store.sql._common import chunks
from runhistory.store.sql._direct import execute, execute_many, json_rows
from runhistory.store.sql._statements import (
    INSERT_ENVIRONMENTS,
    INSERT_RUNS,
    INSERT_RUNS_JSON,
    RESERVE_NUMBERS,
    RESERVE_NUMBERS_APART,
    SET_STATUS,
    STATUS_OF,
    UPDATE_RUNS,
)
from runhistory.store.sql.schema import runs
from runhistory.tracking.entities import (
    UPDATABLE_FIELDS,
    PropertyChange,
    Refusal,
    RunCreate,
    RunUpdate,
    StatusWrite,
    TagChange,
)
from runhistory.tracking.run_environments import (
    ENVIRONMENT,
    KnownEnvironment,
    environment_document,
)
from runhistory.tracking.validation import dump_document

Environment = tuple[str, str | None]  # an environment's id and JSON (None: stored already)
_WRITABLE_FIELDS = UPDATABLE_FIELDS | {"start_time", "end_time", "error"}
Documents = dict[str, tuple[dict[str, Any], dict[str, Any]]]
_ROOTS = select(runs.c.id, runs.c.root_run_id).where(
    runs.c.id.in_(bindparam("ids", expanding=True))
)
_SET_DOCUMENTS = (
    update(runs)
    .where(runs.c.id == bindparam("p_run"))
    .values(tags=bindparam("p_tags"), properties=bindparam("p_properties"))
)


def dump(value: Any, field: str = "document") -> str | None:
    """A document as stored (JSON text), refused by the text rule like every stored string."""
    return None if value is None else dump_document(value, field)


def split_definition(definition: Any) -> tuple[str | None, Environment | None]:
    """A run definition as stored: the rest as JSON text, and ``(id, JSON)`` of its
    environment when it has one (see :func:`~runhistory.tracking.run_environments.
    environment_document`; the JSON is ``None`` for a :class:`~runhistory.tracking.
    run_environments.KnownEnvironment` that names a stored one).

    The SDK hands every run of a process the very same environment object (it is never
    changed), so the last one's encoding is kept and reused when the object comes again.
    The server hands over environments it checked already (``KnownEnvironment``).
    """
    plain = definition is None or type(definition) is dict
    if not plain and not isinstance(definition, Mapping):
        raise ValidationError(f"run_definition must be a dict, got {type(definition).__name__}")
    if definition is None or ENVIRONMENT not in definition:
        return dump(definition, "run_definition"), None
    global _last_environment
    value = definition[ENVIRONMENT]
    last = _last_environment  # one read: another thread may replace it meanwhile
    environment: Environment
    if type(value) is KnownEnvironment:
        environment = (value.id, value.document)
    elif last is not None and last[0] is value:
        environment = last[1]
    else:
        environment = environment_document(value)
        _last_environment = (value, environment)  # holds the object: its id stays unique
    if len(definition) == 1:
        return None, environment
    rest = {k: v for k, v in definition.items() if k != ENVIRONMENT}
    return dump(rest, "run_definition"), environment


# The last environment object seen and its (id, JSON).
_last_environment: tuple[Any, Environment] | None = None


def store_environments(conn: Connection, found: Sequence[Environment]) -> None:
    """Insert environments (``(id, JSON)``) that are not stored yet (one whose JSON is
    ``None`` names a stored one: skipped)."""
    now = time.time()
    rows = {env_id: {"id": env_id, "document": doc, "created_time": now}
            for env_id, doc in found if doc is not None}  # fmt: skip
    execute_many(conn, INSERT_ENVIRONMENTS, list(rows.values()))


def _experiment_of(create: RunCreate) -> str:
    return create.experiment_id


def reserve_numbers(
    conn: Connection, creates: Sequence[RunCreate], apart: bool = False
) -> dict[str, int]:
    """Reserve the run numbers of new runs, in one statement per experiment: ``{run id:
    number}`` in creation order (see :mod:`._run_numbers` for where this runs). ``apart``:
    the reservation is a transaction of its own (PostgreSQL), committed without waiting
    for the disk.

    Raises:
        NotFoundError: an experiment does not exist.
    """
    numbers: dict[str, int] = {}
    experiment = creates[0].experiment_id
    if all(c.experiment_id == experiment for c in creates):  # nearly every batch
        groups: Iterable[tuple[str, Iterable[RunCreate]]] = ((experiment, creates),)
    else:  # sorted stably: each experiment's runs keep their creation order
        groups = groupby(sorted(creates, key=_experiment_of), key=_experiment_of)
    for experiment_id, group in groups:
        mine = list(group)
        params = {"experiment": experiment_id, "count": len(mine),
                  "activity": max(c.created_time for c in mine)}  # fmt: skip
        found_last = execute(conn, RESERVE_NUMBERS_APART if apart else RESERVE_NUMBERS,
                             params).fetchone()  # fmt: skip
        if found_last is None:
            raise NotFoundError(
                f"no experiment with id {experiment_id!r}", experiment_id=experiment_id
            )
        first = int(found_last[0]) - len(mine) + 1
        for i, c in enumerate(mine):
            numbers[c.run_id] = first + i
    return numbers


def new_rows(
    conn: Connection,
    creates: Sequence[RunCreate],
    known: set[str],
    numbers: Mapping[str, int] | None = None,
    environments_out: list[tuple[str, str]] | None = None,
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The rows of new runs (numbered, with their root run), not inserted yet, and the ids of
    the environments inserted for them.

    ``known`` holds the ids of environments this store has stored already (skipped).
    ``numbers`` are run numbers reserved before (see :mod:`._run_numbers`); without them
    they are reserved in this transaction. ``environments_out``: the environments to store,
    ``(id, JSON)``, are left there for the caller to insert instead.
    """
    if numbers is None:
        numbers = reserve_numbers(conn, creates)
    roots = _roots(conn, creates) if any(c.parent_run_id for c in creates) else {}
    rows: dict[str, dict[str, Any]] = {}
    found: list[tuple[str, str]] = []
    for c in creates:
        definition, environment = split_definition(c.run_definition)
        if environment is not None:
            environment_id, document = environment
            if document is not None and environment_id not in known:
                found.append((environment_id, document))
        rows[c.run_id] = {
            "id": c.run_id, "experiment_id": c.experiment_id, "number": numbers[c.run_id],
            "root_run_id": roots.get(c.run_id), "error": dump(c.error, "error"),
            "run_definition": definition, "environment_id": environment and environment[0],
            "tags": dict(c.tags), "properties": dict(c.properties), "status": c.status,
            "created_time": c.created_time, "parent_run_id": c.parent_run_id,
            "display_name": c.display_name, "description": c.description,
            "run_type": c.run_type, "target": c.target, "submitted_by": c.submitted_by,
            "start_time": c.start_time, "end_time": c.end_time, "heartbeat_time": None,
            "snapshot_id": None,
        }  # fmt: skip
    if environments_out is None:
        store_environments(conn, found)
    else:
        environments_out.extend(found)
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


def insert_rows(conn: Connection, rows: Mapping[str, dict[str, Any]]) -> None:
    """Insert new run rows (each names every column of ``runs``: see :func:`new_rows`).

    Raises:
        ConflictError: a run id exists already (named when the batch creates one run).
    """
    values = row_values(rows)
    as_json = json_rows(values) if conn.dialect.name == "postgresql" and values else None
    try:
        if as_json is not None:  # one execution for every run
            execute(conn, INSERT_RUNS_JSON, {"rows": as_json}).close()
        else:
            execute_many(conn, INSERT_RUNS, values)
    except IntegrityError as exc:  # the only unique key new rows can break is the id
        raise run_exists(rows) from exc


def row_values(rows: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """New run rows as inserted: their documents as JSON text."""
    return [{**row, "tags": dump(row["tags"]), "properties": dump(row["properties"])}
            for row in rows.values()]  # fmt: skip


def run_exists(rows: Mapping[str, Any]) -> ConflictError:
    """The error of new runs whose insert broke a unique key (a run id stored before)."""
    ids = list(rows)
    which = repr(ids[0]) if len(ids) == 1 else f"among {ids[:5]}{'…' if len(ids) > 5 else ''}"
    return ConflictError(f"a run with id {which} already exists", run_ids=ids)


def read_documents(
    conn: Connection, run_ids: Sequence[str], positions: dict[str, dict[str, Any]] | None = None
) -> Documents:
    """``{run id: (tags, properties)}`` of stored runs, locked for update on PostgreSQL.

    With ``positions``, each run's id, experiment, creation time and number are left in it
    (what re-indexing its keys needs: see :func:`~._run_keys.replace_changed`).
    """
    found: Documents = {}
    for chunk in chunks(sorted(set(run_ids))):
        query = select(runs.c.id, runs.c.tags, runs.c.properties, runs.c.experiment_id,
                       runs.c.created_time, runs.c.number).where(runs.c.id.in_(chunk))  # fmt: skip
        for run_id, tags, properties, experiment_id, created, number in conn.execute(
            query.with_for_update()
        ):
            found[run_id] = (dict(tags or {}), dict(properties or {}))
            if positions is not None:
                positions[run_id] = {"id": run_id, "experiment_id": experiment_id,
                                     "created_time": created, "number": number}  # fmt: skip
    return found


def write_documents(conn: Connection, documents: Documents) -> None:
    """Store the tags and properties documents of stored runs."""
    if documents:
        rows = [{"p_run": r, "p_tags": t, "p_properties": p} for r, (t, p) in documents.items()]
        conn.execute(_SET_DOCUMENTS, rows)


def apply_tags(documents: Documents, changes: Sequence[TagChange]) -> None:
    """Set, then remove, tags in the documents."""
    for change in changes:
        tags = documents[change.run_id][0]
        tags.update(change.set)
        for key in change.remove:
            tags.pop(key, None)


def apply_properties(documents: Documents, changes: Sequence[PropertyChange]) -> list[Refusal]:
    """Add the properties of each change, all or none: a change with a key that holds another
    value is refused as a whole (keys holding the same value are fine)."""
    refusals: list[Refusal] = []
    for change in changes:
        current = documents[change.run_id][1]
        clash = next(
            (k for k, v in change.properties.items() if k in current and current[k] != v), None
        )
        if clash is None:
            current.update(change.properties)
        else:
            wanted = change.properties[clash]
            refusals.append(Refusal("property", change.run_id, current[clash], wanted, clash))
    return refusals


def field_values(conn: Connection | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Column values of updatable run fields (a definition's environment is stored apart)."""
    if not fields.keys() <= _WRITABLE_FIELDS:
        unknown = sorted(fields.keys() - _WRITABLE_FIELDS)
        raise ValidationError(f"run fields {unknown} cannot be updated", fields=unknown)
    values = {k: dump(v, "error") if k == "error" else v for k, v in fields.items()}
    if "run_definition" in fields:
        rest, environment = split_definition(fields["run_definition"])
        values["run_definition"] = rest
        values["environment_id"] = None if environment is None else environment[0]
        if environment is not None and conn is not None:
            store_environments(conn, [environment])
    return values


def apply_status(row: dict[str, Any], write: StatusWrite) -> bool:
    """A status write on a row not inserted yet: what the stored compare-and-set would do."""
    if row["status"] not in write.expected:
        return False
    row["status"] = write.status
    for name, value in field_values(None, write.fields).items():
        if name == "start_time":
            row[name] = row[name] if row[name] is not None else value
        else:
            row[name] = value
    return True


def write_updates(conn: Connection, updates: Sequence[RunUpdate], new: dict[str, dict]) -> None:
    """Overwrite run fields: in the rows of new runs, or in the store."""
    for change in updates:
        values = field_values(conn, change.fields)
        row = new.get(change.run_id)
        if row is not None:
            row.update(values)
            continue
        params = {f"p_{name}": value for name, value in values.items()}
        params["p_run"] = change.run_id
        if values and not execute(conn, UPDATE_RUNS, params, tuple(values)).rowcount:
            raise NotFoundError(f"no run with id {change.run_id!r}", run_id=change.run_id)


def write_statuses(conn: Connection, writes: Sequence[StatusWrite]) -> list[Refusal]:
    """Compare-and-set the status of stored runs; a run in another status is refused."""
    refusals: list[Refusal] = []
    for write in writes:
        values = field_values(None, write.fields)
        params = {f"p_{k}": v for k, v in values.items()}
        params.update(p_status=write.status, p_run=write.run_id)
        shape = (tuple(sorted(values)), tuple(write.expected))
        if write.expected and execute(conn, SET_STATUS, params, *shape).rowcount:
            continue
        current = execute(conn, STATUS_OF, {"run": write.run_id}).fetchone()
        if current is None:
            raise NotFoundError(f"no run with id {write.run_id!r}", run_id=write.run_id)
        refusals.append(Refusal("status", write.run_id, str(current[0]), write.status))
    return refusals
