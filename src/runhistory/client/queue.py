"""The write queue: ``log`` calls append here and return; a background thread stores batches.

Producers append plain tuples to a deque (atomic under the GIL, no lock on the hot path).
``flush()`` appends a marker and waits until the writer has stored everything before it, so
it needs no shared counters and works with any number of logging threads.

With a backend that stores batches of run changes (the embedded one), the queue also carries
run creations, tag, property and status changes (:mod:`runhistory.tracking.entities`
``RunCreate`` … ``StatusChange``): the writer stores a batch of them with the metric points
queued among them in one transaction, so a short run costs one commit.
"""

from __future__ import annotations

import atexit
import gc
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

from runhistory.errors import FlushTimeoutError, RunhistoryError, StorageError, ValidationError
from runhistory.forking import reset_in_child
from runhistory.retry import Backoff, on, retry
from runhistory.tracking.entities import (
    MetricWrite,
    PropertyChange,
    RunChanges,
    RunCreate,
    StatusChange,
    TagChange,
)

# (metric key, step, vtype, number, text, time); the key stands for (run, name, kind, description)
QueueItem = tuple[int, int | None, int, float | None, str | None, float]
MetricKey = tuple[str, str, str, str]
Sink = Callable[[str, Sequence[MetricWrite]], Any]
ChangeSink = Callable[[RunChanges], list[RunhistoryError]]
RunChange = RunCreate | TagChange | PropertyChange | StatusChange

T = TypeVar("T")

_IDLE_WAIT = 0.02
_by_key = itemgetter(0)
_RETRY = Backoff(first=0.05, factor=3.0, cap=5.0, attempts=7)  # about 10 s in all


class _FlushMarker:
    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class MetricQueue:
    """Batches metric values (and run changes) in memory and stores them from one thread.

    Args:
        sink: called with ``(run_id, writes)`` to store one run's batch.
        max_points: values held before ``put`` waits for the writer (back-pressure).
        batch_size: most values stored per call of ``sink``.
        drain: called by ``flush`` with the seconds left, after the sink took everything; a
            sink that only hands values on (the remote backend's spool) waits there.
        changes: stores a :class:`RunChanges` batch in one transaction and returns the
            errors of refused changes; without it :meth:`put_change` is not available.
    """

    def __init__(
        self,
        sink: Sink,
        max_points: int = 1_000_000,
        batch_size: int = 50_000,
        drain: Callable[[float], None] | None = None,
        changes: ChangeSink | None = None,
    ) -> None:
        self._sink = sink
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
        self._errors: list[RunhistoryError] = []
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self._busy = False
        self._write_lock = threading.Lock()  # held while a batch is being stored
        self._keys: dict[tuple[str, str, str], int] = {}
        self._key_info: list[MetricKey] = []
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
                    found = self._keys[identity] = len(self._key_info)
                    self._key_info.append((run_id, name, kind, description))
        return found

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
        return self._change_sink is not None

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
        marker = _FlushMarker()
        self._items.append(marker)
        if self._write_lock.acquire(blocking=False):
            try:
                while not marker.done.is_set() and self._items:
                    self._write_one_batch()
            finally:
                self._write_lock.release()
            if marker.done.is_set():
                return
        self._wake.set()
        if not marker.done.wait(timeout_seconds):
            raise FlushTimeoutError(
                f"flush timed out after {timeout_seconds} s with {len(self._items)} metric "
                f"values or run changes not yet stored; they stay queued and are written "
                f"in the background",
                pending=len(self._items),
            )

    def pending(self) -> int:
        """Values (and flush markers) not yet stored."""
        return len(self._items)

    def flush(self, timeout_seconds: float = 300) -> None:
        """Wait until every value queued before this call is stored.

        Raises:
            FlushTimeoutError: the timeout passed; the message says how many values wait.
            RunhistoryError: a value queued earlier was refused by the store (the first error).
        """
        started = time.monotonic()
        self.wait(timeout_seconds)
        self._raise_errors()
        if self._drain is not None:
            self._drain(max(timeout_seconds - (time.monotonic() - started), 0.0))

    def _raise_errors(self) -> None:
        if self._errors:
            errors, self._errors = self._errors, []
            first = errors[0]
            if len(errors) > 1:
                first.message += f" (and {len(errors) - 1} more rejected metric writes)"
            raise first

    def _wait_for_room(self) -> None:
        self._wake.set()
        with self._room:
            while len(self._items) >= self._max_points and self._thread_alive():
                self._room.wait(0.1)

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- writer side ---------------------------------------------------------------
    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="runhistory-metric-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._closed or self._items:
            if not self._items:
                self._wake.wait(_IDLE_WAIT)
                self._wake.clear()
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
                marker.done.set()
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
        try:
            self._store_with_retry(run_id, writes)
        except ValidationError:
            self._store_one_by_one(run_id, writes)
        except RunhistoryError as exc:
            self._errors.append(exc)
        except Exception as exc:  # never let the writer thread die silently
            self._errors.append(StorageError(f"storing metrics of run {run_id!r} failed: {exc!r}"))

    def _write_changes(self, batch: list[QueueItem], changes: list[RunChange]) -> None:
        """Store run changes with the metric values queued among them, in one transaction."""
        whole = changes_batch(changes, self._grouped(batch))
        try:
            self._errors.extend(self._retry(lambda: self._apply(whole)))
            return
        except RunhistoryError:
            pass  # refused as a whole: store piece by piece so one bad change loses no other
        except Exception as exc:
            self._errors.append(StorageError(f"storing run changes failed: {exc!r}"))
            return
        for piece in _pieces(whole):
            if piece.metrics:
                for run_id, writes in piece.metrics.items():
                    self._store_metrics(run_id, writes)
                continue
            try:
                self._errors.extend(self._retry(partial(self._apply, piece)))
            except RunhistoryError as exc:
                self._errors.append(exc)
            except Exception as exc:
                self._errors.append(StorageError(f"storing a run change failed: {exc!r}"))

    def _apply(self, changes: RunChanges) -> list[RunhistoryError]:
        assert self._change_sink is not None
        return self._change_sink(changes)

    @staticmethod
    def _retry(call: Callable[[], T]) -> T:
        """``call()``, again after a pause while the store reports itself unavailable."""
        return retry(call, on(StorageError), _RETRY)

    def _store_with_retry(self, run_id: str, writes: list[MetricWrite]) -> None:
        self._retry(lambda: self._sink(run_id, writes))

    def _store_one_by_one(self, run_id: str, writes: list[MetricWrite]) -> None:
        for write in writes:
            try:
                self._store_with_retry(run_id, [write])
            except RunhistoryError as exc:
                self._errors.append(exc)

    def close(self, timeout_seconds: float = 60) -> None:
        """Store what is queued, then stop the writer."""
        try:
            self.flush(timeout_seconds)
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
        self._errors = []
        self._change_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._changes_put = self._changes_done = 0


def changes_batch(
    changes: Sequence[RunChange], metrics: dict[str, list[MetricWrite]]
) -> RunChanges:
    """Sort queued run changes into one :class:`RunChanges` batch, keeping their order."""
    batch = RunChanges(metrics=metrics)
    for change in changes:
        if type(change) is RunCreate:
            batch.creates.append(change)
        elif type(change) is TagChange:
            batch.tags.append(change)
        elif type(change) is PropertyChange:
            batch.properties.append(change)
        else:
            assert type(change) is StatusChange
            batch.statuses.append(change)
    return batch


def _pieces(whole: RunChanges) -> list[RunChanges]:
    """A refused batch split into single changes, in the batch's order of effect."""
    return [
        *(RunChanges(creates=[c]) for c in whole.creates),
        *(RunChanges(tags=[c]) for c in whole.tags),
        *(RunChanges(properties=[c]) for c in whole.properties),
        *(RunChanges(metrics={r: w}) for r, w in whole.metrics.items()),
        *(RunChanges(statuses=[c]) for c in whole.statuses),
    ]


def group_writes(batch: list[QueueItem], keys: Sequence[MetricKey]) -> dict[str, list[MetricWrite]]:
    """Group queued values into one ``MetricWrite`` per (run, metric), keeping their order."""
    batch.sort(key=_by_key)  # stable: values of one metric keep their order
    grouped: dict[str, list[MetricWrite]] = {}
    for key, items in groupby(batch, _by_key):
        run_id, name, kind, description = keys[key]
        _, *columns = zip(*items, strict=True)
        write = MetricWrite.from_columns(name, kind, tuple(columns), description)  # type: ignore[arg-type]
        grouped.setdefault(run_id, []).append(write)
    return grouped


_QUEUES: weakref.WeakSet[MetricQueue] = weakref.WeakSet()


def flush_all(timeout_seconds: float = 60) -> None:
    """Flush every queue of this process (called at interpreter exit)."""
    for queue in list(_QUEUES):
        try:
            queue.flush(timeout_seconds)
        except RunhistoryError as exc:
            import sys

            print(f"runhistory: {exc}", file=sys.stderr)


atexit.register(flush_all)
