"""The index of run tags and properties by value (``run_keys``), kept by the write path.

One row per tag and per property of every run, keyed in listing order: a listing filtered on
``key == value`` in an experiment reads its runs newest first from this key alone. The runs'
documents stay the truth (listings check them too), so a value is indexed by its first
:data:`~runhistory.store.sql.schema.RUN_KEY_VALUE_CHARS` characters and a tag without a value
as ``""``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import Executable

from runhistory.store.sql._common import chunks
from runhistory.store.sql._direct import execute_many, statement
from runhistory.store.sql.schema import RUN_KEY_VALUE_CHARS, run_keys, runs

TAG, PROPERTY = 0, 1
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


def _delete_keys(dialect: str) -> Executable:
    """The key row with these values (its whole primary key)."""
    return delete(run_keys).where(and_(*(run_keys.c[n] == bindparam(n) for n in _COLUMNS)))


INSERT_KEYS = statement(_insert_keys)
DELETE_KEYS = statement(_delete_keys)


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


def insert_new(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Index the tags and properties of new run rows (see ``new_rows``)."""
    found = [k for row in rows for k in key_rows(row, row["tags"], row["properties"])]
    execute_many(conn, INSERT_KEYS, found)


def replace_changed(
    conn: Connection,
    before: Documents,
    after: Documents,
    positions: Mapping[str, dict[str, Any]] | None = None,
) -> None:
    """Re-index the keys whose value changed between ``before`` and ``after`` (stored runs);
    ``positions`` (as :func:`~._run_writes.read_documents` leaves them) saves reading them."""
    changed = [r for r in after if before.get(r) != after[r]]
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
    """Remove the keys of runs about to be deleted."""
    rows: list[dict[str, Any]] = []
    for chunk in chunks(list(run_ids)):
        query = select(runs.c.id, runs.c.experiment_id, runs.c.created_time, runs.c.number,
                       runs.c.tags, runs.c.properties).where(runs.c.id.in_(chunk))  # fmt: skip
        for found in conn.execute(query).mappings():
            run = dict(found)
            rows.extend(key_rows(run, run["tags"] or {}, run["properties"] or {}))
    execute_many(conn, DELETE_KEYS, rows)


def _identity(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["run_id"], row["kind"], row["key"], row["value"])


def _positions(conn: Connection, run_ids: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for chunk in chunks(run_ids):
        query = select(runs.c.id, runs.c.experiment_id, runs.c.created_time,
                       runs.c.number).where(runs.c.id.in_(chunk))  # fmt: skip
        found.extend(dict(row) for row in conn.execute(query).mappings())
    return found
