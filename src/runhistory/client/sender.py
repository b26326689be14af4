"""The background sender: spooled batches to the server, in order, many per request.

:class:`SpoolSender` is the remote backend's ``log_metrics`` and ``write_changes``: it spools
the batch and returns (on disk once anything else waits to be sent, so what waits survives a
dead server or a dead process; see :meth:`SpoolSender._spool_batch`); its thread sends up
to :data:`MAX_POINTS_PER_REQUEST` points per request (gzip-compressed from
:data:`GZIP_MINIMUM` bytes on), retries with backoff
while the server is unreachable, and deletes each batch once the server acknowledged it.
Requests that hold only metric batches go to ``/metrics/batches``; a request with a batch of
run changes goes to ``/changes/batches``, which takes both kinds in order.

The server answers batch by batch; a refused batch (or refused change) is kept as an error of
its run (raised by that run's ``flush()``/``complete()``). A request refused as a whole (it
can never succeed: an unreadable spool file, an older server that answers for the whole
request) is split in halves and sent again, down to single batches, so a bad batch never
costs another one.

A batch of run changes goes out with its runs' environments named by id alone once the
server stored them (see :mod:`runhistory.client.change_wire`); whole the first time, and
again, at once, when the server answers that it does not know an id (a fresh database, a
restarted server): it stored nothing of that request.
"""

from __future__ import annotations

import gzip
import os
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from runhistory.client.change_wire import (
    dumps_batch,
    dumps_batch_forms,
    encode_changes,
    whole_size,
)
from runhistory.client.http import HttpClient
from runhistory.client.run_errors import RunErrors
from runhistory.client.spool import SpoolDir, SpooledBatch, remove_empty_orphans
from runhistory.client.wire import encode_writes
from runhistory.errors import (
    AuthenticationError,
    FlushTimeoutError,
    PermissionDeniedError,
    RunhistoryError,
    StorageError,
    UnknownEnvironmentError,
    error_class_by_name,
)
from runhistory.retry import Backoff
from runhistory.tracking.entities import MetricWrite, RunChanges

MAX_POINTS_PER_REQUEST = 200_000
MAX_BYTES_PER_REQUEST = 32 * 1024 * 1024
MEMORY_BYTES = 64 * 1024 * 1024  # batch bytes kept in memory; beyond, re-read from the spool
# A request body smaller than this goes out as it is: a run written behind (about 7 KB with
# its environment) cost the client more to compress than to send, and the server more to
# decompress; big metric batches still travel compressed.
GZIP_MINIMUM = 32 * 1024
_PLAIN = {"Content-Type": "application/json"}
_GZIPPED = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
_BACKOFF = Backoff(first=0.1, cap=5.0)  # the pauses between tries; spooled batches never expire


class BatchSender:
    """Sends spooled batches to the server (no thread: the caller drives it)."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self.max_points = MAX_POINTS_PER_REQUEST
        self.environments: set[str] = set()  # environment ids the server stored, as known

    def send(
        self, group: Sequence[SpooledBatch], timeout: float | None = None
    ) -> list[list[RunhistoryError]]:
        """Send a group in one request; returns each batch's refusals (none when stored).
        ``timeout``: the most seconds the request may take (else the client's own).

        Runs name their environments by id alone when the server stored them before; if it
        answers that it does not know one, the group goes again at once, whole.

        Raises:
            StorageError: the server is unreachable or failed; send the group again later.
            RunhistoryError: the server refused the whole request (auth, size, shape).
        """
        known = self.environments
        short = [b.short is not None and b.environments <= known for b in group]
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            results = self._post(group, short, timeout)
        except UnknownEnvironmentError:
            if not any(short):
                raise
            known.clear()  # nothing of the request was stored: again, whole
            short = [False] * len(group)
            left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
            results = self._post(group, short, left)
        for result, batch, named in zip(results, group, short, strict=True):
            if batch.environments and not named and result.get("stored"):
                known |= batch.environments
        return [_refusals(result, b.changes) for result, b in zip(results, group, strict=True)]

    def _post(
        self, group: Sequence[SpooledBatch], short: list[bool], timeout: float | None
    ) -> list[dict[str, Any]]:
        parts = [b.short if named and b.short is not None else b.load()
                 for b, named in zip(group, short, strict=True)]  # fmt: skip
        body = b'{"batches":[' + b",".join(parts) + b"]}"
        headers = _PLAIN
        if len(body) >= GZIP_MINIMUM:
            body, headers = gzip.compress(body, compresslevel=1), _GZIPPED
        path = "/changes/batches" if any(b.changes for b in group) else "/metrics/batches"
        if timeout is None:
            answer = self.http.post_bytes(path, body, headers)
        else:
            answer = self.http.post_bytes(path, body, headers, timeout=timeout)
        results: list[dict[str, Any]] = answer["results"]
        return results


def _refusals(result: dict[str, Any], changes: bool) -> list[RunhistoryError]:
    """A batch's refusals: every one of a batch of run changes (they name their runs), the
    first of a metric batch (counting the others)."""
    errors = result.get("errors") or []
    if not errors:
        return []
    if changes:
        return [_error(e) for e in errors]
    error = _error(errors[0])
    if len(errors) > 1:
        error.message += f" (and {len(errors) - 1} more refused metric writes)"
    return [error]


def _error(body: dict[str, Any]) -> RunhistoryError:
    fields = body.get("fields")
    error = error_class_by_name(body.get("error", ""))(body.get("message", ""))
    if isinstance(fields, dict) and isinstance(fields.get("run_id"), str):
        error.fields["run_id"] = fields["run_id"]
    return error


class SpoolSender:
    """Spools metric batches and sends them from a background thread.

    Args:
        http: the client of the server.
        tracking_uri: the server's URI (names the spool folder).
    """

    def __init__(self, http: HttpClient, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        remove_empty_orphans(tracking_uri)  # a process ends without closing its (empty) spool
        self._spool = SpoolDir.create(tracking_uri)
        self._sender = BatchSender(http)
        self._pending: deque[SpooledBatch] = deque()
        self._unsent_points = 0
        self._unsent_changes = 0  # batches of run changes not yet acknowledged
        self._memory = 0
        self._errors = RunErrors()
        # One lock, two conditions: ``_changed`` wakes those waiting for acknowledgements,
        # ``_work`` the thread. A flushing caller sends itself when nothing is in flight
        # (``_sending``): two thread switches fewer per flush; while one announced it will
        # (``hold``), a spooled batch does not wake the thread (see :meth:`hold`).
        lock = threading.RLock()
        self._lock = lock  # taken as it is where nobody waits (no Condition method call)
        self._changed = threading.Condition(lock)
        self._work = threading.Condition(lock)
        self._waiting = 0  # threads waiting on ``_changed`` (none: no one to notify)
        self._sending = False
        self._holds = 0
        self._noted = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="runhistory-sender", daemon=True)
        self._thread.start()

    @property
    def spool_path(self) -> str:
        """Where this process's unsent batches are."""
        return self._spool.path

    def submit(self, run_id: str, writes: Sequence[MetricWrite], batch_id: str | None) -> bool:
        """Spool one batch for sending (on disk before this returns when others wait: see
        :meth:`_spool_batch`)."""
        points = sum(len(w.points) for w in writes)
        record = {"run_id": run_id, "batch_id": batch_id or uuid.uuid4().hex,
                  "writes": encode_writes(writes)}  # fmt: skip
        with self._changed:
            self._pending.append(self._spool_batch(record, points))
            self._unsent_points += points
            if not self._holds:
                self._work.notify()
        return True

    def submit_changes(self, changes: RunChanges, environment_ids: bool = False) -> None:
        """Spool one batch of run changes for sending (see :meth:`_spool_batch`); runs name
        their environments by id once the server has them if it takes ``environment_ids``.

        A batch whose runs can name their environments by id is encoded in that short form
        only; its whole form is made if it is sent whole or written to the spool (see
        :func:`~runhistory.client.change_wire.dumps_batch_forms`).
        """
        encoded = encode_changes(changes, environment_ids)
        points = sum(len(w.points) for writes in changes.metrics.values() for w in writes)
        record = {"batch_id": os.urandom(16).hex(), "run_ids": changes.run_ids(),
                  "changes": encoded}  # fmt: skip
        checked = changes.checked
        data, short_data, named = dumps_batch_forms(record, checked, whole=False)
        with self._lock:
            if short_data is None:
                batch = self._spool_batch(record, points, data)
            else:
                batch = self._spool_batch(record, points, None, short_data, named,
                                          partial(dumps_batch, record, checked),
                                          whole_size(record, short_data))  # fmt: skip
            self._pending.append(batch)
            self._unsent_points += points
            self._unsent_changes += 1
            if not self._holds:
                self._work.notify()

    def _spool_batch(
        self,
        record: dict[str, Any],
        points: int,
        data: bytes | None = None,
        short: bytes | None = None,
        named: frozenset[str] = frozenset(),
        encode: Callable[[], bytes] | None = None,
        size: int | None = None,
    ) -> SpooledBatch:
        """The next batch (holding the lock): kept in memory only while nothing else waits to
        be sent, else written to disk with every batch before it.

        The server stores a batch before a flush returns, so a flushed value survives the
        process either way; the file is for the values that wait — the server being away
        (the sender writes every waiting batch to disk when a request fails), or behind — so
        that ``runhistory sync`` sends them if the process dies. A batch is in memory only
        for as long as its one request to an answering server takes.

        ``short`` (with the environment ids it ``named``): the batch with its runs'
        environments named by id; ``encode`` then makes its whole form, about ``size``
        bytes, when needed (``data`` is ``None``).
        """
        batch = self._spool.reserve(record, points, data, encode, size)
        if short is not None:
            batch.short, batch.environments = short, named
        if self._pending or self._memory >= MEMORY_BYTES:
            for waiting in self._pending:  # an OSError (a full disk) is the caller's, as ever
                self._spool.write(waiting)
            self._spool.write(batch)
            if self._memory >= MEMORY_BYTES:
                batch.data = batch.short = None  # read back from disk when sent, whole
        batch.held = len(batch.data or b"") + len(batch.short or b"")
        self._memory += batch.held
        return batch

    def _persist(self) -> bool:
        """Write every waiting batch to disk, in order (holding the lock); False if the disk
        refused (the batches stay in memory and are written with the next batch waiting)."""
        try:
            for batch in self._pending:
                self._spool.write(batch)
        except OSError:
            return False
        return True

    def hold(self, held: bool) -> None:
        """A flush begins (``True``: its batches are about to be spooled, and it sends them
        itself in :meth:`wait_until_sent`, so they need not wake the thread) or ends
        (``False``: whatever still waits is the thread's again)."""
        with self._lock:
            self._holds = self._holds + 1 if held else max(self._holds - 1, 0)
            if not held and self._pending and not self._sending:
                self._work.notify()

    def wait_for_changes(self, timeout_seconds: float) -> None:
        """Wait (at most ``timeout_seconds``) until the server acknowledged every batch of
        run changes spooled so far; returns at once when none waits."""
        if not self._unsent_changes:
            return
        deadline = time.monotonic() + max(timeout_seconds, 0)
        with self._changed:
            while self._unsent_changes and time.monotonic() < deadline:
                self._wait_changed(deadline)

    def _wait_changed(self, deadline: float) -> None:
        """Wait (holding the lock) until batches are acknowledged, at most until ``deadline``
        and half a second."""
        self._waiting += 1
        try:
            self._changed.wait(min(0.5, max(deadline - time.monotonic(), 0.001)))
        finally:
            self._waiting -= 1

    def unsent(self) -> int:
        """Metric values spooled but not yet acknowledged by the server."""
        return self._unsent_points

    def wait_until_sent(self, timeout_seconds: float, run_id: str | None = None) -> None:
        """Wait until the server stored everything spooled so far.

        Raises:
            FlushTimeoutError: values were still unsent at the timeout (the message counts them).
            RunhistoryError: the server refused a batch of ``run_id`` (of any run when
                ``None``) since the last wait: the first error, once.
        """
        deadline = time.monotonic() + max(timeout_seconds, 0)
        inline = True  # until a send fails: then the thread retries, with its pauses
        with self._lock:
            while self._pending and time.monotonic() < deadline:
                if inline and not self._sending:
                    inline = self._send_here(deadline)
                    continue
                self._wait_changed(deadline)
            if self._pending:
                self._persist()
                raise FlushTimeoutError(
                    f"flush timed out after {timeout_seconds} s with {self._unsent_points} metric "
                    f"values in {len(self._pending)} batches not yet stored by "
                    f"{self.tracking_uri}; they are kept in {self._spool.path} and sent in "
                    f"the background (or by 'runhistory sync' if this process ends)",
                    pending=self._unsent_points, spool=self._spool.path,
                )  # fmt: skip
        self._noted = False
        self._errors.raise_for(run_id, every_run=run_id is None)

    def take_refusals(self) -> list[RunhistoryError]:
        """Remove and return the refusals no flush has raised, the first of each run."""
        return self._errors.take(every_run=True)

    def _send_here(self, deadline: float) -> bool:
        """Send the next group from the calling thread (holding the lock, released while
        the request is under way) within the caller's ``deadline`` (monotonic); False if it
        failed or no time is left (then on disk, and the thread's)."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        group = self._take_group()
        self._sending = True
        self._lock.release()
        try:
            sent = self._send(group, left)
        finally:
            self._lock.acquire()
            self._sending = False
        if not sent:
            self._persist()  # the server is away: what waits goes to disk
        if self._pending:
            self._work.notify()  # the thread sends the rest (and retries a failure)
        return sent

    # ---- the thread ---------------------------------------------------------------------
    def _run(self) -> None:
        failures = 0
        while True:
            with self._changed:
                while (not self._pending or self._sending) and not self._closed:
                    self._work.wait(1.0)
                if not self._pending:
                    return
                if self._sending:  # closing while a caller sends: its answer first
                    self._work.wait(0.05)
                    continue
                group = self._take_group()
                self._sending = True
            try:
                sent = self._send(group)
            finally:
                with self._changed:
                    self._sending = False
            if sent:
                failures = 0
            else:
                failures += 1
                delay = _BACKOFF.delay(failures)
                with self._changed:
                    self._persist()  # the server is away: what waits goes to disk
                    if self._closed and failures > 3:
                        return
                    self._work.wait(delay)

    def _take_group(self) -> list[SpooledBatch]:
        group: list[SpooledBatch] = []
        points = size = 0
        for batch in self._pending:
            if group and (points + batch.points > self._sender.max_points
                          or size + batch.size > MAX_BYTES_PER_REQUEST):  # fmt: skip
                break
            group.append(batch)
            points += batch.points
            size += batch.size
        return group

    def _send(self, group: list[SpooledBatch], timeout: float | None = None) -> bool:
        """Send ``group`` (split and sent again if refused as a whole); False to retry later.
        ``timeout``: the most seconds each request may take (else the client's own)."""
        try:
            refusals = self._sender.send(group, timeout)
        except StorageError:
            return False
        except (AuthenticationError, PermissionDeniedError) as exc:
            self._note_error(exc)  # kept on disk: a valid token sends it later
            return False
        except RunhistoryError as exc:
            if exc.fields.get("http_status") == 413 and len(group) > 1:
                self._sender.max_points = max(1, self._sender.max_points // 2)
                return False
            if len(group) > 1:  # one bad batch must not cost the others: halves, in order
                half = len(group) // 2
                return self._send(group[:half], timeout) and self._send(group[half:], timeout)
            refusals = [[exc]]  # this batch alone can never be stored: its runs raise
        self._acknowledge(group, refusals)
        return True

    def _note_error(self, exc: RunhistoryError) -> None:
        if not self._noted:  # once until the next flush (it is retried meanwhile)
            self._noted = True
            self._errors.add(None, exc)

    def _acknowledge(
        self, group: list[SpooledBatch], refusals: list[list[RunhistoryError]]
    ) -> None:
        with self._lock:
            for batch, errors in zip(group, refusals, strict=True):
                self._spool.remove(batch)
                self._pending.popleft()
                self._unsent_points -= batch.points
                self._unsent_changes -= batch.changes
                self._memory -= batch.held
                for error in errors:
                    self._keep(batch, error)
            if self._waiting:
                self._changed.notify_all()

    def _keep(self, batch: SpooledBatch, error: RunhistoryError) -> None:
        """Keep a refusal for the run it names (every run of a batch refused whole)."""
        named = error.fields.get("run_id")
        if isinstance(named, str):
            self._errors.add(named, error)
        elif batch.changes and batch.run_ids:
            for run_id in batch.run_ids:
                self._errors.add(run_id, error)
        else:
            self._errors.add(batch.run_id, error)

    def close(self, timeout_seconds: float = 5.0) -> None:
        """Stop the thread; batches it could not send stay spooled for ``runhistory sync``."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            self._work.notify_all()
        self._thread.join(timeout_seconds)
        with self._changed:
            kept = self._persist()  # what the thread could not send, for 'runhistory sync'
            left = self._unsent_points
        if not kept and left:
            print(f"runhistory: {left} metric values were not sent to {self.tracking_uri} and "
                  f"could not be written to {self._spool.path}", file=sys.stderr)  # fmt: skip
        if not self._spool.close() and left and kept:
            print(
                f"runhistory: {left} metric values were not sent to {self.tracking_uri}; they "
                f"are kept in {self._spool.path}; run 'runhistory sync' to send them",
                file=sys.stderr,
            )
