"""The write path: every run and metric write of the SQL store is a batch stored here.

The SDK queues run creations, tag and property changes, metric points and status changes, and
its writer thread hands them over in batches; the service's one-at-a-time calls (and the
server's) are batches of one. A batch is one transaction with a handful of statements
whatever it holds. Changes of runs created in the same batch are folded into the new rows
before they are inserted, so a short run (create, tags, properties, a few metrics, complete)
costs three statements: reserve the numbers, insert the runs, insert the metrics (and the
chunks of metrics with more than one point). On PostgreSQL a batch that only creates runs
and changes those goes out as one statement that also reserves their numbers, without
``BEGIN`` and ``COMMIT`` (see _new_runs.py). The statements are built from the declared
tables and run on the driver's cursor (see _direct.py and _statements.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from runhistory.errors import ConflictError, NotFoundError, RunhistoryError
from runhistory.store.sql._common import SqlStoreBase, require_run
from runhistory.store.sql._direct import execute, execute_many, json_rows
from runhistory.store.sql._metric_writes import (
    append,
    append_new,
    batch_claimed,
    claim_batch,
    claim_stored,
)
from runhistory.store.sql._new_runs import in_one_statement, one_experiment, write_new_runs
from runhistory.store.sql._run_keys import insert_new, move_pending, replace_changed
from runhistory.store.sql._run_numbers import reserve_apart
from runhistory.store.sql._run_writes import (
    Documents,
    apply_properties,
    apply_status,
    apply_tags,
    insert_rows,
    new_rows,
    read_documents,
    write_documents,
    write_statuses,
    write_updates,
)
from runhistory.store.sql._statements import CLAIM_BATCHES, CLAIM_BATCHES_JSON
from runhistory.tracking.entities import Refusal, StatusWrite, WriteBatch, WriteOutcome

_log = logging.getLogger("runhistory.store")


class ChangesMixin(SqlStoreBase):
    """``write_changes`` of :class:`~runhistory.store.sql.SqlTrackingStore`.

    The store remembers which environments it stored (they are never deleted), so the runs
    of one process insert their shared environment once.
    """

    _known_environments: set[str]
    _keys_wait = False  # this store left new runs' keys waiting (see _run_keys.py)
    _waiting_runs: int | None = None  # runs whose keys wait, as this store last knew

    def write_changes(self, batch: WriteBatch) -> WriteOutcome:
        known = self._known_environments
        inserted: list[str] = []  # environments stored by the batch
        waiting: list[int | None] = [None]  # runs whose keys wait after the batch
        reserved: dict[str, int] = {}
        first = reserve_apart(self._engine.dialect.name, batch.creates, reserved)
        numbers: dict[str, int] | None = reserved if first is not None else None
        alone: list[WriteOutcome] = []  # the batch, stored in one statement
        if first is not None and in_one_statement(batch):
            if one_experiment(batch):  # numbered by that statement (see _new_runs.py)
                numbers = None  # one JSON cannot carry reserves its numbers in its transaction

                def first(conn: Connection) -> None:  # committed on its own
                    alone.clear()  # a retried transaction starts over
                    stored = write_new_runs(conn, batch, known, None, inserted)
                    if stored is not None:
                        alone.append(stored)

            else:
                reserve = first

                def first(conn: Connection) -> None:  # each statement committed on its own
                    alone.clear()
                    reserve(conn)
                    stored = write_new_runs(conn, batch, known, reserved, inserted)
                    if stored is not None:
                        alone.append(stored)

        def work(conn: Connection) -> WriteOutcome:
            if alone:  # stored already: the transaction is empty
                return alone[0]
            outcome = WriteOutcome()
            # A batch that creates runs is checked only if it fails: a replay of it finds
            # its first run stored (ConflictError below); this saves two statements a batch.
            # One that changes stored runs records its id first, in one statement: taken
            # already means a replay (a missing run is refused below, as without an id).
            claimed = False
            if batch.claim is not None and not batch.creates:
                claimed = claim_stored(conn, *batch.claim)
                if not claimed and batch_claimed(conn, *batch.claim):
                    return WriteOutcome(replayed=True)
            new, environments = (
                new_rows(conn, batch.creates, known, numbers) if batch.creates else ({}, [])
            )
            inserted[:] = environments  # a retried transaction starts over
            write_updates(conn, batch.updates, new)
            outcome.refusals = _documents(conn, batch, new)
            later: list[StatusWrite] = []
            for write in batch.statuses:
                row = new.get(write.run_id)
                if row is None:
                    later.append(write)
                elif not apply_status(row, write):
                    outcome.refusals.append(
                        Refusal("status", write.run_id, row["status"], write.status)
                    )
            insert_rows(conn, new)
            waiting[0] = insert_new(conn, new.values(), self._waiting_runs)
            _metrics(conn, batch, new, outcome)
            outcome.refusals += write_statuses(conn, later)
            if batch.claim is not None and not claimed and not claim_batch(conn, *batch.claim):
                raise ConflictError(f"batch {batch.claim[1]!r} is being stored twice at once")
            if batch.claims and not _claim_all(conn, batch.claims):
                raise ConflictError("a batch of the group was stored before")
            return outcome

        try:
            outcome = self._write_hot(work, first)
        except ConflictError:
            claim = batch.claim
            if claim is not None and self._write_hot(lambda conn: batch_claimed(conn, *claim)):
                return WriteOutcome(replayed=True)
            raise
        known.update(inserted)  # committed
        if waiting[0] is not None:
            self._waiting_runs = waiting[0]
            self._keys_wait = self._keys_wait or waiting[0] > 0
        return outcome

    def _move_waiting_keys(self) -> None:
        """Move the keys this store left waiting into ``run_keys`` (on closing: a failure
        leaves them waiting, where listings read them too)."""
        if self._keys_wait:
            try:
                self._write_hot(move_pending)
                self._waiting_runs = 0
            except RunhistoryError as exc:
                _log.warning("the keys of new runs stay waiting: %s", exc.message)
            self._keys_wait = False


def _claim_all(conn: Connection, claims: Sequence[tuple[str, str]]) -> bool:
    """Record the batch ids of a group in one statement; False if one was stored before."""
    now = time.time()
    rows = [{"run_id": r, "batch_id": b, "created_time": now} for r, b in claims]
    as_json = json_rows(rows) if conn.dialect.name == "postgresql" else None
    if as_json is None:
        return execute_many(conn, CLAIM_BATCHES, rows) == len(rows)
    found = execute(conn, CLAIM_BATCHES_JSON, {"rows": as_json})  # one execution for all
    try:
        return int(found.rowcount) == len(rows)
    finally:
        found.close()


def _documents(conn: Connection, batch: WriteBatch, new: dict[str, dict]) -> list[Refusal]:
    """Apply tag and property changes to new rows and to the (locked) documents of stored
    runs, and write the stored ones back."""
    if not batch.tags and not batch.properties:
        return []
    touched = {c.run_id for c in batch.tags} | {c.run_id for c in batch.properties}
    touched -= new.keys()
    if not touched:  # only runs of this batch (a short run's): their rows are not stored yet
        documents: Documents = {r: (row["tags"], row["properties"]) for r, row in new.items()}
        apply_tags(documents, batch.tags)
        return apply_properties(documents, batch.properties)
    positions: dict[str, dict[str, Any]] = {}
    stored = read_documents(conn, list(touched), positions) if touched else {}
    for run_id in touched - set(stored):
        raise NotFoundError(f"no run with id {run_id!r}", run_id=run_id)
    documents = {r: (row["tags"], row["properties"]) for r, row in new.items()}
    documents.update(stored)
    before = {r: (dict(t), dict(p)) for r, (t, p) in stored.items()}
    apply_tags(documents, batch.tags)
    refusals = apply_properties(documents, batch.properties)
    write_documents(conn, stored)
    replace_changed(conn, before, stored, positions)
    return refusals


def _metrics(
    conn: Connection, batch: WriteBatch, new: dict[str, dict], outcome: WriteOutcome
) -> None:
    """Append metric points: with the rows of new runs, or to stored runs (checked to exist,
    skipped when their batch id was stored before)."""
    fresh = {r: w for r, w in batch.metrics.items() if r in new and w}
    for run_id in fresh:
        batch_id = batch.batch_ids.get(run_id)
        if batch_id is not None:
            claim_batch(conn, run_id, batch_id)  # a new run: never stored before
    append_new(conn, fresh)
    for run_id, writes in batch.metrics.items():
        if run_id in new or not writes:
            continue
        batch_id = batch.batch_ids.get(run_id)
        if batch_id is None:
            require_run(conn, run_id)
        elif not claim_stored(conn, run_id, batch_id):  # stored before, or no such run
            require_run(conn, run_id)
            outcome.repeated.add(run_id)
            continue
        append(conn, run_id, writes)
