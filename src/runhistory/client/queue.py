"""The write queue: ``log`` calls append here and return; a background thread stores batches.

Producers append plain tuples to a deque (atomic under the GIL, no lock on the hot path).
``flush()`` appends a marker and waits until the writer has stored everything before it, so
it needs no shared counters and works with any number of logging threads.

With a backend that stores batches of run changes (the embedded one), the queue also carries
run creations, tag, property and status changes (:mod:`runhistory.tracking.entities`
``RunCreate`` … ``StatusChange``): the writer stores a batch of them with the metric points
queued among them in one transaction, so a short run costs one commit.

One bad value never costs another: a batch refused as a whole is stored again run by run,
and a refused run's changes one by one, so only the offending change is lost; its error is
kept for the run that owned it (:mod:`runhistory.client.run_errors`) and raised by that run's
``flush()`` or ``complete()``. Only a store that stays unavailable through every retry costs
a whole batch — and then every run in it raises.
"""

from __future__ import annotations

import atexit
import gc
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from runhistory.client.batches import (
    MetricKey,
    QueueItem,
    RunChange,
    by_run,
    changes_batch,
    group_writes,
    single_changes,
)
from runhistory.client.run_errors import RunErrors
from runhistory.errors import FlushTimeoutError, RunhistoryError, StorageError
from runhistory.forking import reset_in_child
from runhistory.retry import Backoff, retry
from runhistory.tracking.entities import MetricWrite, RunChanges
from runhistory.tracking.status import is_terminal

Sink = Callable[[str, Sequence[MetricWrite]], Any]
ChangeSink = Callable[[RunChanges], list[RunhistoryError]]
Drain = Callable[[float, "str | None"], None]

T = TypeVar("T")

_IDLE_WAIT = 0.02
RETAINED_RUNS = 256  # finished runs whose metric keys are kept (see MetricQueue._retire)
_RETRY = Backoff(first=0.05, factor=3.0, cap=5.0, attempts=7)  # about 10 s in all


class _FlushMarker:
    """Where a flush waits in the queue: ``done`` once the batch holding it is stored;
    ``event`` (set then too) only for a flush that waits for the writer thread."""

    __slots__ = ("done", "event")

    def __init__(self, event: threading.Event | None = None) -> None:
        self.done = False
        self.event = event


class MetricQueue:
    """Batches metric values (and run changes) in memory and stores them from one thread.

    Args:
        sink: called with ``(run_id, writes)`` to store one run's batch.
        max_points: values held before ``put`` waits for the writer (back-pressure).
        batch_size: most values stored per call of ``sink``.
        drain: called by ``flush`` with the seconds left and the run flushed (``None``: all),
            after the sink took everything; a sink that only hands values on (the remote
            backend's spool) waits there, and raises what the server refused.
        changes: stores a :class:`RunChanges` batch in one transaction and returns the
            errors of refused changes; without it :meth:`put_change` is not available.
        refusals: takes the refusals kept beyond this queue (the remote sender's), for the
            report of a workspace-wide close or of the interpreter's exit.
        accepts_changes: asked once, on first need, whether ``changes`` may be used (a
            remote backend asks its server); without it, ``changes`` decides.
        hold: told when a flush that drains begins (``True``) and ends (``False``): the
            remote backend's sender then leaves the flush's batches to ``drain``, which
            sends them from the flushing thread.
    """

    def __init__(
        self,
        sink: Sink,
        max_points: int = 1_000_000,
        batch_size: int = 50_000,
        drain: Drain | None = None,
        changes: ChangeSink | None = None,
        refusals: Callable[[], list[RunhistoryError]] | None = None,
        accepts_changes: Callable[[], bool] | None = None,
        hold: Callable[[bool], None] | None = None,
    ) -> None:
        self._sink = sink
        self._hold = hold if drain is not None else None
        self._accepts_changes = accepts_changes
        self._takes_changes: bool | None = None if accepts_changes else changes is not None
        self._refusals = refusals
        self._change_sink = changes
        self._changes_put = 0  # run changes queued so far (under _change_lock)
        self._changes_done = 0  # run changes the writer has handled (writer thread only)
        self._change_lock = threading.Lock()
        self._drain = drain  # remote mode: waits until the server stored what the sink spooled
        self._items: deque[Any] = deque()
        self._max_points = max_points
        self._batch_size = batch_size
        self._wake = threading.Event()
        self._room = threading.Condition()
        self._room_waiters = 0  # producers waiting for room (under ``_room``)
        self._errors = RunErrors()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self._busy = False
        self._write_lock = threading.Lock()  # held while a batch is being stored
        # The metric keys of queued values. A run's are retired when the writer takes its
        # final status (every value queued before it is grouped by then) and dropped after
        # RETAINED_RUNS more runs were retired: a long-lived process creating runs keeps
        # the table as small as its live runs (see :meth:`_retire`).
        self._keys: dict[tuple[str, str, str], int] = {}
        self._key_info: dict[int, MetricKey] = {}
        self._next_key = 0
        self._run_keys: dict[str, list[tuple[str, str, str]]] = {}
        self._scalar_caches: dict[str, dict[str, tuple[int, bool]]] = {}
        self._retired: deque[str] = deque()
        _QUEUES.add(self)
        reset_in_child(self, MetricQueue._after_fork)

    def key(self, run_id: str, name: str, kind: str, description: str = "") -> int:
        """A small integer standing for one metric of one run in queued items."""
        identity = (run_id, name, kind)
        found = self._keys.get(identity)
        if found is None:
            with self._start_lock:  # the description of the first call is the one stored
                found = self._keys.get(identity)
                if found is None:
                    found = self._keys[identity] = self._next_key
                    self._next_key += 1
                    self._key_info[found] = (run_id, name, kind, description)
                    self._run_keys.setdefault(run_id, []).append(identity)
        return found

    def scalar_cache(self, run_id: str) -> dict[str, tuple[int, bool]]:
        """The cache of scalar metric keys every ``Run`` object of ``run_id`` shares
        (``{name: (key, has_step)}``); emptied when the run's keys are retired, so that no
        object keeps a key the table may drop."""
        cache = self._scalar_caches.get(run_id)
        if cache is None:
            cache = self._scalar_caches.setdefault(run_id, {})
        return cache

    def _retire(self, run_ids: Sequence[str]) -> None:
        """Retire the metric keys of runs that just finished (writer side, holding
        ``_write_lock``): their shared caches are emptied now, their entries dropped once
        :data:`RETAINED_RUNS` more runs were retired — a thread that read a cached key just
        before still finds it when the value it logs is grouped."""
        retired = self._retired
        for run_id in run_ids:
            cache = self._scalar_caches.pop(run_id, None)
            if cache is not None:
                cache.clear()
            retired.append(run_id)
        with self._start_lock:
            while len(retired) > RETAINED_RUNS:
                gone = retired.popleft()
                if gone in self._scalar_caches:  # logged to again after it finished
                    continue
                for identity in self._run_keys.pop(gone, ()):
                    found = self._keys.pop(identity, None)
                    if found is not None:
                        del self._key_info[found]

    # ---- producer side -------------------------------------------------------------
    def put(self, item: QueueItem) -> None:
        """Queue one value; returns at once unless the queue is full."""
        if self._thread is None:
            self._start()
        if len(self._items) >= self._max_points:
            self._wait_for_room()
        self._items.append(item)

    def put_many(self, items: Sequence[QueueItem]) -> None:
        """Queue several values in order."""
        if self._thread is None:
            self._start()
        if len(self._items) + len(items) > self._max_points:
            self._wait_for_room()
        self._items.extend(items)

    @property
    def takes_changes(self) -> bool:
        """Whether run changes can be queued (the backend stores them in batches)."""
        if self._takes_changes is None:
            assert self._accepts_changes is not None
            self._takes_changes = self._change_sink is not None and self._accepts_changes()
        return self._takes_changes

    def put_change(self, change: RunChange) -> None:
        """Queue a run creation or a tag, property or status change; returns at once."""
        if self._change_sink is None:
            raise RuntimeError("this queue's backend does not store batches of run changes")
        if self._thread is None:
            self._start()
        if len(self._items) >= self._max_points:
            self._wait_for_room()
        with self._change_lock:
            self._changes_put += 1
            self._items.append(change)

    def has_pending_changes(self) -> bool:
        """Whether run changes wait to be stored (synchronous calls wait for them first)."""
        return self._changes_put != self._changes_done

    def wait(self, timeout_seconds: float = 300) -> None:
        """Wait until everything queued so far is stored, keeping errors for ``flush``.

        When the writer thread is idle, the calling thread stores the queue itself: handing a
        short batch to the writer and waiting for it costs two thread switches, as much as
        storing a small run.

        Raises:
            FlushTimeoutError: the timeout passed with values or changes still queued.
        """
        # The writer marks itself busy before it takes a batch, so an empty deque and an idle
        # writer mean that everything queued before this call is stored.
        if self._thread is None or not (self._items or self._busy):
            return
        if self._write_lock.acquire(blocking=False):
            # Nobody else takes a batch meanwhile: the marker needs no event to wait on.
            marker = _FlushMarker()
            self._items.append(marker)
            try:
                while not marker.done and self._items:
                    self._write_one_batch()
            finally:
                self._write_lock.release()
            return
        marker = _FlushMarker(threading.Event())
        self._items.append(marker)
        self._wake.set()
        assert marker.event is not None
        if not marker.event.wait(timeout_seconds):
            raise FlushTimeoutError(
                f"flush timed out after {timeout_seconds} s with {len(self._items)} metric "
                f"values or run changes not yet stored; they stay queued and are written "
                f"in the background",
                pending=len(self._items),
            )

    def pending(self) -> int:
        """Values (and flush markers) not yet stored."""
        return len(self._items)

    def flush(self, timeout_seconds: float = 300, run_id: str | None = None) -> None:
        """Wait until every value queued before this call is stored.

        Args:
            timeout_seconds: how long to wait.
            run_id: the run flushing: only its refused values and changes are raised (each
                once). ``None`` (a workspace closing, the interpreter exiting) raises those of
                every run.

        Raises:
            FlushTimeoutError: the timeout passed; the message says how many values wait.
            RunhistoryError: a value or change of the run was refused (the first error, its
                message counting the others); the rest of what was queued is stored.
        """
        started = time.monotonic()
        hold = self._hold
        if hold is None:
            self.wait(timeout_seconds)
            self._errors.raise_for(run_id, every_run=run_id is None)
            if self._drain is not None:
                self._drain(max(timeout_seconds - (time.monotonic() - started), 0.0), run_id)
            return
        hold(True)
        try:
            self.wait(timeout_seconds)
            self._errors.raise_for(run_id, every_run=run_id is None)
            assert self._drain is not None
            self._drain(max(timeout_seconds - (time.monotonic() - started), 0.0), run_id)
        finally:
            hold(False)

    def take_errors(self) -> list[RunhistoryError]:
        """Remove and return the first refusal of every run (for a report at exit), the
        remote sender's included."""
        taken = self._errors.take(every_run=True)
        return taken + (self._refusals() if self._refusals is not None else [])

    def _wait_for_room(self) -> None:
        self._wake.set()
        with self._room:
            self._room_waiters += 1  # before looking: the writer notifies once it sees it
            try:
                while len(self._items) >= self._max_points and self._thread_alive():
                    self._room.wait(0.1)
            finally:
                self._room_waiters -= 1

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- writer side ---------------------------------------------------------------
    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                import runhistory.faults  # noqa: F401  (here, not in the writer thread at exit)

                self._thread = threading.Thread(
                    target=self._run, name="runhistory-metric-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        seen: Any = None  # the run change first in the queue when the writer last looked
        while not self._closed or self._items:
            items = self._items
            if not items:
                self._wake.wait(_IDLE_WAIT)
                self._wake.clear()
                continue
            try:
                head = items[0]
            except IndexError:  # a flushing thread stored them meanwhile
                continue
            if type(head) is not tuple and head is not seen and not self._closed:
                # A run change queued since the last look: its run is most likely still being
                # made, and ``complete()`` stores all of it in one transaction. Taking part of
                # it now would cost the run a second transaction, so it is left one interval
                # (unless someone waits for it: ``wait`` wakes the writer).
                seen = head
                woken = self._wake.wait(_IDLE_WAIT)
                self._wake.clear()
                if not woken:
                    continue
            with self._write_lock:
                if self._items:  # a flushing thread may have stored them meanwhile
                    self._write_one_batch()

    def _write_one_batch(self) -> None:
        """Take one batch off the queue and store it (holding ``_write_lock``)."""
        self._busy = True
        batch, changes, markers = self._take_batch()
        try:
            if changes:
                self._write_changes(batch, changes)
            elif batch:
                self._write(batch)
        finally:
            self._changes_done += len(changes)  # handled: stored or refused
            self._busy = bool(self._items)
            for marker in markers:
                marker.done = True
                if marker.event is not None:
                    marker.event.set()
            if self._room_waiters:  # a producer waits for room (else nobody to wake)
                with self._room:
                    self._room.notify_all()

    def _take_batch(self) -> tuple[list[QueueItem], list[RunChange], list[_FlushMarker]]:
        batch: list[QueueItem] = []
        changes: list[RunChange] = []
        markers: list[_FlushMarker] = []
        items = self._items
        while items and len(batch) < self._batch_size:
            item = items.popleft()
            if type(item) is not tuple:
                if type(item) is _FlushMarker:
                    markers.append(item)
                    break  # everything before the marker is in this batch
                changes.append(item)
                continue
            batch.append(item)
        return batch, changes, markers

    def _grouped(self, batch: list[QueueItem]) -> dict[str, list[MetricWrite]]:
        # Transposing a big batch allocates millions of short-lived tuples; pausing the cyclic
        # GC meanwhile nearly halves the writer's cost (measured with 1,000,000 points).
        paused = len(batch) > 10_000 and gc.isenabled()
        if paused:
            gc.disable()
        try:
            return group_writes(batch, self._key_info)
        finally:
            if paused:
                gc.enable()

    def _write(self, batch: list[QueueItem]) -> None:
        for run_id, writes in self._grouped(batch).items():
            self._store_metrics(run_id, writes)

    def _store_metrics(self, run_id: str, writes: list[MetricWrite]) -> None:
        """One run's metric writes together, else one by one: a refused write costs no other."""
        error = self._attempt(run_id, lambda: self._sink(run_id, writes))
        if error is None or isinstance(error, StorageError) or len(writes) == 1:
            if error is not None:
                self._errors.add(run_id, error)
            return
        for write in writes:
            error = self._attempt(run_id, lambda w=write: self._sink(run_id, [w]))  # type: ignore[misc]
            if error is not None:
                self._errors.add(run_id, error)

    def _write_changes(self, batch: list[QueueItem], changes: list[RunChange]) -> None:
        """Store run changes with the metric values queued among them, in one transaction;
        if that is refused, run by run; a refused run's changes one by one."""
        whole = changes_batch(changes, self._grouped(batch))
        finished = [c.run_id for c in whole.statuses if is_terminal(c.status)]
        if finished:
            self._retire(finished)
        error = self._apply(None, whole)
        if error is None:
            return
        if isinstance(error, StorageError):  # unavailable through every retry: all runs raise
            for run_id in whole.run_ids():
                lost = f"{error.message}; nothing of run {run_id!r} in this batch was stored"
                self._errors.add(run_id, StorageError(lost, **error.fields))
            return
        for run_id, mine in by_run(whole):
            if self._apply(run_id, mine) is not None:
                self._apply_one_by_one(run_id, mine)

    def _apply_one_by_one(self, run_id: str, mine: RunChanges) -> None:
        pieces = single_changes(mine)
        for done, piece in enumerate(pieces):
            error = self._apply(run_id, piece)
            if error is None:
                continue
            if piece.creates:  # nothing else of the run can be stored without it
                if len(pieces) > done + 1:
                    error.message += f" ({len(pieces) - done - 1} later changes of the run lost)"
                self._errors.add(run_id, error)
                return
            self._errors.add(run_id, error)

    def _apply(self, run_id: str | None, changes: RunChanges) -> RunhistoryError | None:
        """Store ``changes``; keep the refusals it returns; return the error that refused it
        as a whole (``run_id``: the run it belongs to, for an unexpected failure's message)."""
        assert self._change_sink is not None
        sink = self._change_sink
        refusals: list[RunhistoryError] = []
        error = self._attempt(run_id, lambda: refusals.extend(sink(changes)))
        for refusal in refusals:
            self._errors.add(refusal.fields.get("run_id", run_id), refusal)
        return error

    def _attempt(self, run_id: str | None, call: Callable[[], Any]) -> RunhistoryError | None:
        """``call()`` (retried while the store is unavailable); the error that refused it."""
        try:
            self._retry(call)
        except RunhistoryError as exc:
            return exc
        except Exception as exc:  # never let the writer thread die silently
            where = f" of run {run_id!r}" if run_id else ""
            return StorageError(f"storing the values and changes{where} failed: {exc!r}")
        return None

    @staticmethod
    def _retry(call: Callable[[], T]) -> T:
        """``call()``, again after a pause while the store reports itself unavailable (a
        read-only folder or a full disk is reported at once).

        The fault rules (with :mod:`logging`) are imported on the first write, not with the
        SDK.
        """
        global _is_transient
        if _is_transient is None:
            from runhistory.faults import is_transient

            _is_transient = is_transient
        return retry(call, _is_transient, _RETRY)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (the connection is being shut down)."""
        return self._closed

    def close(self, timeout_seconds: float = 60) -> None:
        """Store what is queued, then stop the writer; refusals no run has raised yet are
        reported on stderr (as at exit)."""
        try:
            _report(self, timeout_seconds)
        finally:
            self._closed = True
            self._wake.set()

    def _after_fork(self) -> None:
        # The writer thread does not exist in a forked child: start afresh and empty.
        self._items = deque()
        self._thread = None
        self._start_lock = threading.Lock()
        self._wake = threading.Event()
        self._room = threading.Condition()
        self._room_waiters = 0
        self._errors = RunErrors()
        self._change_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._changes_put = self._changes_done = 0


_QUEUES: weakref.WeakSet[MetricQueue] = weakref.WeakSet()
_is_transient: Callable[[BaseException], bool] | None = None  # imported on the first write


def flush_all(timeout_seconds: float = 60) -> None:
    """Flush every queue of this process (called at interpreter exit).

    Nobody is left to raise to: the refusals of every run are printed to stderr, one line
    per run, naming it.
    """
    for queue in list(_QUEUES):
        _report(queue, timeout_seconds)


def _report(queue: MetricQueue, timeout_seconds: float) -> None:
    """Store what is queued; print every refusal no run has raised, one line per run."""
    try:
        queue.wait(timeout_seconds)
        if queue._drain is not None:
            queue._drain(timeout_seconds, "")  # waits; raises only what belongs to no run
    except RunhistoryError as exc:
        print(f"runhistory: {exc}", file=sys.stderr)
    for error in queue.take_errors():
        run = error.fields.get("run_id")
        print(f"runhistory: {'run ' + repr(run) + ': ' if run else ''}{error}", file=sys.stderr)


atexit.register(flush_all)
