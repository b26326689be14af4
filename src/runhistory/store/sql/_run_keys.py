"""The index of run tags and properties by value (``run_keys``), kept by the write path.

One row per tag and per property of every run, keyed in listing order: a listing filtered on
``key == value`` in an experiment reads its runs newest first from this key alone. The runs'
documents stay the truth (listings check them too), so a value is indexed by its first
:data:`~runhistory.store.sql.schema.RUN_KEY_VALUE_CHARS` characters and a tag without a value
as ``""``.

On SQLite a new run's keys first wait in ``run_keys_pending``, one row per run holding them as
JSON (each value already keyed, as text: no JSON number or boolean, so moving them keeps
``"True"`` and ``"5"`` as they are): fifteen index rows a run landed on fifteen pages of the
index in each run's own transaction, most of the cost of creating a run. Once
:data:`MOVE_AT` runs wait, the write that got there moves them all into ``run_keys`` in one
statement (a store counts the waiting rows only when its own writes since its last count
could have got there); a store moves what it left waiting when it is closed. Listings read
both (see :func:`waiting_runs`); a change of a waiting run's tags or properties rewrites its
waiting row, and deleting a run deletes it. PostgreSQL writes ``run_keys`` directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy import column as column_of
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import Executable

from runhistory.store.sql._common import chunks
from runhistory.store.sql._direct import execute, execute_many, statement
from runhistory.store.sql.schema import RUN_KEY_VALUE_CHARS, run_keys, run_keys_pending, runs

TAG, PROPERTY = 0, 1
# Runs whose keys wait (SQLite) before the write that counts them moves them all.
MOVE_AT = 256
_PENDING = run_keys_pending
_DOCUMENTS = {TAG: _PENDING.c.tags, PROPERTY: _PENDING.c.properties}
_COLUMNS = tuple(c.name for c in run_keys.c)
Documents = Mapping[str, tuple[Mapping[str, Any], Mapping[str, Any]]]


def indexed_value(value: Any) -> str:
    """How a tag or property value is keyed."""
    return "" if value is None else str(value)[:RUN_KEY_VALUE_CHARS]


def exact_key(value: str) -> bool:
    """Whether the key of ``value`` is the value itself (so the index alone decides)."""
    return 0 < len(value) < RUN_KEY_VALUE_CHARS


def _insert_keys(dialect: str) -> Executable:
    """A key row (``:experiment_id``, ``:kind``, ``:key``, ``:value`` …)."""
    return insert(run_keys)


def _insert_key_rows(dialect: str) -> Executable:
    """Key rows from one JSON array of rows (``:rows``, each an object of ``run_keys``'
    columns; PostgreSQL): one statement, one parameter for the keys of any
    number of runs. The driver sends the JSON text as it is, where a list per column was
    dumped element by element (in Python); the database reads it with ``json_to_recordset``.
    """
    # Strings as VARCHAR without their length: a cast to VARCHAR(n) would cut a longer value
    # where the insert must refuse it, as one row at a time does.
    columns = [
        column_of(c.name, String() if isinstance(c.type, String) else c.type) for c in run_keys.c
    ]
    rows = func.json_to_recordset(cast(bindparam("rows"), JSON)).table_valued(*columns)
    found = rows.render_derived(name="r", with_types=True)
    return insert(run_keys).from_select(list(_COLUMNS), select(*found.c))


def _delete_keys(dialect: str) -> Executable:
    """The key row with these values (its whole primary key)."""
    return delete(run_keys).where(and_(*(run_keys.c[n] == bindparam(n) for n in _COLUMNS)))


def _insert_pending(dialect: str) -> Executable:
    """A waiting row (``:run_id``, ``:experiment_id`` … ``:tags``, ``:properties``)."""
    return insert(_PENDING)


def _count_pending(dialect: str) -> Executable:
    """How many runs' keys wait."""
    return select(func.count()).select_from(_PENDING)


def _move_pending(dialect: str) -> Executable:
    """Every waiting key into ``run_keys``."""
    parts = []
    for kind, column in _DOCUMENTS.items():
        each = func.json_each(column).table_valued("key", "value")
        parts.append(
            select(
                _PENDING.c.experiment_id,
                literal_column(str(kind)),
                each.c.key,
                each.c.value,
                _PENDING.c.created_time,
                _PENDING.c.number,
                _PENDING.c.run_id,
            ).select_from(_PENDING, each)
        )
    return insert(run_keys).from_select(list(_COLUMNS), union_all(*parts))


def _delete_pending(dialect: str) -> Executable:
    """Every waiting row."""
    return delete(_PENDING)


INSERT_KEYS = statement(_insert_keys)
INSERT_KEY_ROWS = statement(_insert_key_rows)
DELETE_KEYS = statement(_delete_keys)
INSERT_PENDING = statement(_insert_pending)
COUNT_PENDING = statement(_count_pending)
MOVE_PENDING = statement(_move_pending)
DELETE_PENDING = statement(_delete_pending)


def _set_pending(dialect: str) -> Executable:
    """The keys of a waiting run (``:p_run``) replaced by ``:p_tags``, ``:p_properties``."""
    return (
        _PENDING.update()
        .where(_PENDING.c.run_id == bindparam("p_run"))
        .values(tags=bindparam("p_tags"), properties=bindparam("p_properties"))
    )


SET_PENDING = statement(_set_pending)


def waits(conn: Connection) -> bool:
    """Whether new runs' keys wait in ``run_keys_pending`` on this database (SQLite)."""
    return conn.dialect.name == "sqlite"


def _keyed(document: Mapping[str, Any]) -> str:
    """A document as a waiting row holds it: JSON of each value's key (text)."""
    for value in document.values():
        if type(value) is not str or len(value) >= RUN_KEY_VALUE_CHARS:
            return orjson.dumps({key: indexed_value(v) for key, v in document.items()}).decode()
    return orjson.dumps(document).decode()  # every value is its own key


def _pending_row(run: Mapping[str, Any]) -> dict[str, Any]:
    return {"run_id": run["id"], "experiment_id": run["experiment_id"],
            "created_time": run["created_time"], "number": run["number"],
            "tags": _keyed(run["tags"]), "properties": _keyed(run["properties"])}  # fmt: skip


def key_rows(
    run: Mapping[str, Any], tags: Mapping[str, Any], properties: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The key rows of a run (``run`` has its ``id``, ``experiment_id``, ``created_time``
    and ``number``)."""
    base = {"experiment_id": run["experiment_id"], "created_time": run["created_time"],
            "number": run["number"], "run_id": run["id"]}  # fmt: skip
    return [
        {**base, "kind": kind, "key": key, "value": indexed_value(value)}
        for kind, document in ((TAG, tags), (PROPERTY, properties))
        for key, value in document.items()
    ]


def insert_new(
    conn: Connection, rows: Iterable[Mapping[str, Any]], waiting: int | None = None
) -> int | None:
    """Index the tags and properties of new run rows (see ``new_rows``); on SQLite they wait,
    and all waiting keys are moved once :data:`MOVE_AT` runs wait.

    ``waiting`` is how many runs the caller last knew to be waiting (``None``: unknown). They
    are counted only when that many and these could reach :data:`MOVE_AT`, which saves a
    statement on nearly every write; runs other processes left waiting meanwhile are found
    by that count, so each process moves them at most :data:`MOVE_AT` of its own runs late.

    Returns how many runs wait now as far as this write knows (``None`` when it knows nothing
    new: PostgreSQL, or no new run).
    """
    if not waits(conn):
        # PostgreSQL: one execution for every key, instead of one per key (fifteen a B3 run);
        # each execution costs the driver and the server far more than a row.
        found = [k for row in rows for k in key_rows(row, row["tags"], row["properties"])]
        if found:
            execute(conn, INSERT_KEY_ROWS, {"rows": orjson.dumps(found).decode()}).close()
        return None
    pending = [_pending_row(row) for row in rows]
    if not pending:
        return None
    execute_many(conn, INSERT_PENDING, pending)
    if waiting is not None and waiting + len(pending) < MOVE_AT:
        return waiting + len(pending)
    counted = execute(conn, COUNT_PENDING, {})
    now = int(counted.fetchone()[0])
    counted.close()
    if now < MOVE_AT:
        return now
    move_pending(conn)
    return 0


def move_pending(conn: Connection) -> None:
    """Move every waiting key into ``run_keys`` (SQLite; one transaction with the caller's)."""
    if waits(conn):
        execute(conn, MOVE_PENDING, {})
        execute(conn, DELETE_PENDING, {})


def replace_changed(
    conn: Connection,
    before: Documents,
    after: Documents,
    positions: Mapping[str, dict[str, Any]] | None = None,
) -> None:
    """Re-index the keys whose value changed between ``before`` and ``after`` (stored runs);
    ``positions`` (as :func:`~._run_writes.read_documents` leaves them) saves reading them."""
    changed = [r for r in after if before.get(r) != after[r]]
    if changed and waits(conn):  # a waiting run's row takes its new keys
        changed = [r for r in changed if not _rewrite_waiting(conn, r, *after[r])]
    if not changed:
        return
    old: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    if positions is not None and all(r in positions for r in changed):
        found = [positions[r] for r in changed]
    else:
        found = _positions(conn, changed)
    for run in found:
        for side, found in ((before, old), (after, new)):
            found.extend(key_rows(run, *side[run["id"]]))
    gone = {_identity(k) for k in old}
    kept = {_identity(k) for k in new}
    execute_many(conn, DELETE_KEYS, [k for k in old if _identity(k) not in kept])
    execute_many(conn, INSERT_KEYS, [k for k in new if _identity(k) not in gone])


def delete_runs(conn: Connection, run_ids: Iterable[str]) -> None:
    """Remove the keys of runs about to be deleted (waiting or not)."""
    rows: list[dict[str, Any]] = []
    for chunk in chunks(list(run_ids)):
        if waits(conn):
            conn.execute(delete(_PENDING).where(_PENDING.c.run_id.in_(chunk)))
        query = select(runs.c.id, runs.c.experiment_id, runs.c.created_time, runs.c.number,
                       runs.c.tags, runs.c.properties).where(runs.c.id.in_(chunk))  # fmt: skip
        for found in conn.execute(query).mappings():
            run = dict(found)
            rows.extend(key_rows(run, run["tags"] or {}, run["properties"] or {}))
    execute_many(conn, DELETE_KEYS, rows)


def waiting_runs(
    conn: Connection, experiment_id: str, kind: int, key: str, value: Any
) -> list[str]:
    """Ids of the runs of an experiment whose keys wait, with ``key`` of ``kind`` keyed as
    ``value`` is (what the ``run_keys`` rows of an equality filter hold); none on PostgreSQL."""
    if not waits(conn):
        return []
    column, wanted = _DOCUMENTS[kind], indexed_value(value)
    match: ColumnElement[bool]
    if '"' in key or "\\" in key:  # not a name of SQLite's JSON paths ($."key")
        each = func.json_each(column).table_valued("key", "value")
        match = exists().select_from(each).where(each.c.key == key, each.c.value == wanted)
    else:  # every waiting value is JSON text: json_extract gives it as SQL text
        match = func.json_extract(column, f'$."{key}"') == wanted
    query = select(_PENDING.c.run_id).where(_PENDING.c.experiment_id == experiment_id, match)
    return list(conn.execute(query).scalars())


def waiting_key_counts(conn: Connection, experiment_id: str) -> list[tuple[int, str, int]]:
    """``(kind, key, runs)`` of the keys of an experiment's runs that wait (SQLite)."""
    if not waits(conn):
        return []
    found: list[tuple[int, str, int]] = []
    for kind, column in _DOCUMENTS.items():
        each = func.json_each(column).table_valued("key")
        query = (
            select(each.c.key, func.count())
            .select_from(_PENDING)
            .join(each, true())
            .where(_PENDING.c.experiment_id == experiment_id)
            .group_by(each.c.key)
        )
        found.extend((kind, str(key), int(number)) for key, number in conn.execute(query))
    return found


def delete_experiment(conn: Connection, experiment_id: str) -> None:
    """Remove the keys of every run of an experiment about to be deleted."""
    conn.execute(delete(run_keys).where(run_keys.c.experiment_id == experiment_id))
    if waits(conn):
        conn.execute(delete(_PENDING).where(_PENDING.c.experiment_id == experiment_id))


def _rewrite_waiting(
    conn: Connection, run_id: str, tags: Mapping[str, Any], properties: Mapping[str, Any]
) -> bool:
    """Replace the keys of ``run_id`` if they wait; whether they did."""
    params = {"p_run": run_id, "p_tags": _keyed(tags), "p_properties": _keyed(properties)}
    return bool(execute(conn, SET_PENDING, params).rowcount)


def _identity(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["run_id"], row["kind"], row["key"], row["value"])


def _positions(conn: Connection, run_ids: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for chunk in chunks(run_ids):
        query = select(runs.c.id, runs.c.experiment_id, runs.c.created_time,
                       runs.c.number).where(runs.c.id.in_(chunk))  # fmt: skip
        found.extend(dict(row) for row in conn.execute(query).mappings())
    return found
