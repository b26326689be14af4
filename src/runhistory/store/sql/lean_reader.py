"""Run listings of an embedded SQLite store read with the standard library's ``sqlite3``.

The command line lists runs in a fresh process each time; importing SQLAlchemy and the full
store costs more than the listing itself. :class:`LeanReader` answers the listings the CLI
needs most (the runs of an experiment, newest first, by status and creation time, in keyset
pages; the experiments) with the same SQL semantics as :class:`SqlTrackingStore`, and nothing
else: it never writes, never migrates and never imports SQLAlchemy.

:meth:`LeanReader.open` returns ``None`` when it cannot serve a database as the store would
(no such file, an empty database, a schema at another revision than this runhistory's): the
caller then opens the full store, which creates, upgrades or refuses the database with its
usual messages. The connection is read-only (``mode=ro``), so a reader never takes a write
lock; in WAL mode it reads a consistent snapshot per query while writers go on.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import orjson

from runhistory.errors import StorageError
from runhistory.store.sql.revisions import HEAD_REVISION
from runhistory.tracking.records import UNDECODABLE, ExperimentInfo, RunCursor, RunInfo, RunQuery

BUSY_TIMEOUT_S = 60.0
_VIEW_TYPES = ("ActiveOnly", "ArchivedOnly", "All")
# The columns of a listed run (no definition, no environment), in RunInfo's names.
_RUN_COLUMNS = (
    ("id", "run_id"), ("experiment_id", "experiment_id"), ("number", "number"),
    ("status", "status"), ("created_time", "created_time"), ("parent_run_id", "parent_run_id"),
    ("root_run_id", "root_run_id"), ("display_name", "display_name"),
    ("description", "description"), ("run_type", "run_type"), ("target", "target"),
    ("submitted_by", "submitted_by"), ("start_time", "start_time"), ("end_time", "end_time"),
    ("heartbeat_time", "heartbeat_time"), ("snapshot_id", "snapshot_id"), ("error", "error"),
    ("tags", "tags"), ("properties", "properties"),
)  # fmt: skip
_SELECT_RUNS = (
    "SELECT "
    + ", ".join(f"runs.{column}" for column, _ in _RUN_COLUMNS)
    + ", (SELECT experiments.name FROM experiments WHERE experiments.id = runs.experiment_id)"
    " FROM runs"
)
_FIELDS = (*(field for _, field in _RUN_COLUMNS), "experiment_name")


class LeanReader:
    """Read-only listings of one SQLite store file (see the module's description).

    Use :meth:`open`; close with :meth:`close` (or as a context manager).
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection

    @classmethod
    def open(cls, database_path: str) -> LeanReader | None:
        """A reader of the store file at ``database_path``, or ``None`` when only the full
        store can open it (missing or empty file, schema at another revision).

        Raises:
            StorageError: the file exists but cannot be read as a SQLite database.
        """
        if not os.path.isfile(database_path):
            return None
        uri = "file:" + urllib.parse.quote(os.path.abspath(database_path)) + "?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        except sqlite3.Error:
            return None  # the full store says what is wrong with it
        reader = cls(conn)
        try:
            revision = reader._revision()
        except sqlite3.Error:
            conn.close()
            return None
        if revision != HEAD_REVISION:
            conn.close()
            return None
        return reader

    def _revision(self) -> str | None:
        found = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if not found:
            return None
        row = self._conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> LeanReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- experiments ----------------------------------------------------------------------
    def list_experiments(self, view_type: str = "ActiveOnly") -> list[ExperimentInfo]:
        """Experiments as :meth:`SqlTrackingStore.list_experiments` lists them (oldest first).

        Raises:
            ValueError: ``view_type`` is not ActiveOnly, ArchivedOnly or All.
        """
        if view_type not in _VIEW_TYPES:
            raise ValueError(f"view_type must be one of {', '.join(_VIEW_TYPES)}")
        where = {
            "ActiveOnly": " WHERE archived_time IS NULL",
            "ArchivedOnly": " WHERE archived_time IS NOT NULL",
            "All": "",
        }[view_type]
        rows = self._all(
            "SELECT id, name, created_time, archived_time, last_activity_time FROM experiments"
            + where
            + " ORDER BY created_time, name",
            (),
        )
        tags = self._experiment_tags([row[0] for row in rows])
        return [_experiment(row, tags.get(row[0], {})) for row in rows]

    def _experiment_tags(self, ids: Sequence[str]) -> dict[str, dict[str, str | None]]:
        found: dict[str, dict[str, str | None]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            query = (
                "SELECT experiment_id, key, value FROM experiment_tags "
                f"WHERE experiment_id IN ({marks})"
            )
            for owner, key, value in self._all(query, tuple(chunk)):
                found.setdefault(owner, {})[key] = value
        return found

    # ---- runs -----------------------------------------------------------------------------
    @staticmethod
    def covers(query: RunQuery) -> bool:
        """Whether :meth:`search_runs` can answer ``query``: the runs of one experiment, by
        status, creation time and whether they are children — no tag, property, parent,
        root or type filter, no offset, no definitions."""
        return (
            query.experiment_id is not None
            and query.parent_run_id is None
            and query.root_run_id is None
            and query.run_type is None
            and not query.tags
            and not query.properties
            and not query.offset
            and not query.with_definition
        )

    def search_runs(self, query: RunQuery) -> list[RunInfo]:
        """The runs of ``query`` as :meth:`SqlTrackingStore.search_runs` returns them (stored
        statuses, newest first, after ``query.after``, at most ``query.limit``).

        Raises:
            ValueError: :meth:`covers` is False for ``query``.
            StorageError: the database cannot be read.
        """
        if not self.covers(query):
            raise ValueError("the lean reader lists the runs of one experiment only")
        conditions = ["runs.experiment_id = ?"]
        params: list[Any] = [query.experiment_id]
        if query.statuses is not None:
            if len(query.statuses) == 1:
                conditions.append("runs.status = ?")
            else:
                conditions.append(f"runs.status IN ({', '.join('?' * len(query.statuses))})")
            params.extend(query.statuses)
        if not query.include_children:
            conditions.append("runs.parent_run_id IS NULL")
        if query.created_after is not None:
            conditions.append("runs.created_time >= ?")
            params.append(query.created_after)
        if query.created_before is not None:
            conditions.append("runs.created_time < ?")
            params.append(query.created_before)
        if query.after is not None:
            conditions.append("(runs.created_time, runs.number) < (?, ?)")
            params.extend((query.after.created_time, query.after.number))
        sql = (
            f"{_SELECT_RUNS} WHERE {' AND '.join(conditions)}"
            " ORDER BY runs.created_time DESC, runs.number DESC"
        )
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(query.limit)
        return [_to_info(row) for row in self._all(sql, tuple(params))]

    def iterate_runs(self, query: RunQuery, page_sizes: Sequence[int]) -> Iterator[RunInfo]:
        """Every run of ``query`` (without its ``after`` and ``limit``), read lazily a keyset
        page at a time: the n-th page holds ``page_sizes[n]`` runs, the last size thereafter."""
        after: RunCursor | None = None
        number = 0
        while True:
            size = page_sizes[min(number, len(page_sizes) - 1)]
            found = self.search_runs(replace(query, after=after, limit=size))
            yield from found
            if len(found) < size:
                return
            after = RunCursor.of(found[-1])
            number += 1

    def _all(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read the metadata store: {exc}") from exc


def _experiment(row: Sequence[Any], tags: dict[str, str | None]) -> ExperimentInfo:
    return ExperimentInfo(
        experiment_id=row[0], name=row[1], created_time=row[2], archived_time=row[3],
        tags=tags, last_activity_time=row[4],
    )  # fmt: skip


def _to_info(row: Sequence[Any]) -> RunInfo:
    values = dict(zip(_FIELDS, row, strict=True))
    if values["error"] is not None:
        values["error"] = _load(values["error"], "error", values["run_id"])
    values["tags"] = _document(values["tags"], "tags", values["run_id"])
    values["properties"] = _document(values["properties"], "properties", values["run_id"])
    values["run_definition"] = None
    return RunInfo.of(values)


def _document(text: Any, field: str, run_id: str) -> Any:
    """A tags or properties column as the store's JSON column gives it (``{}`` for none)."""
    if text is None:
        return {}
    found = orjson.loads(text) if isinstance(text, (str, bytes)) else text
    return {} if found is None else found


def _load(text: str, field: str, run_id: str) -> Any:
    """A stored JSON document; one that cannot be decoded comes back marked (and logged)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        import logging  # only for this rare fault: logging costs a listing's import time

        logging.getLogger("runhistory.store").warning(
            "the %s of run %r cannot be decoded (%s): %.200r", field, run_id, exc, text
        )
        return {UNDECODABLE: text, "error": str(exc)}
