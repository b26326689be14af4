"""The metric queue: ``log`` calls append here and return; a background thread stores batches.

Producers append plain tuples to a deque (atomic under the GIL, no lock on the hot path).
``flush()`` appends a marker and waits until the writer has stored everything before it, so
it needs no shared counters and works with any number of logging threads.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from runhistory.errors import FlushTimeoutError, RunhistoryError, StorageError, ValidationError
from runhistory.tracking.entities import MetricWrite

# (run_id, name, kind, description, step, vtype, number, text, time)
QueueItem = tuple[str, str, str, str, int | None, int, float | None, str | None, float]
Sink = Callable[[str, Sequence[MetricWrite]], Any]

_IDLE_WAIT = 0.02
_RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0, 2.0, 5.0)


class _FlushMarker:
    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class MetricQueue:
    """Batches metric values in memory and stores them from one background thread.

    Args:
        sink: called with ``(run_id, writes)`` to store one run's batch.
        max_points: values held before ``put`` waits for the writer (back-pressure).
        batch_size: most values stored per call of ``sink``.
    """

    def __init__(self, sink: Sink, max_points: int = 1_000_000, batch_size: int = 50_000) -> None:
        self._sink = sink
        self._items: deque[Any] = deque()
        self._max_points = max_points
        self._batch_size = batch_size
        self._wake = threading.Event()
        self._room = threading.Condition()
        self._errors: list[RunhistoryError] = []
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        _QUEUES.add(self)

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

    def pending(self) -> int:
        """Values (and flush markers) not yet stored."""
        return len(self._items)

    def flush(self, timeout_seconds: float = 300) -> None:
        """Wait until every value queued before this call is stored.

        Raises:
            FlushTimeoutError: the timeout passed; the message says how many values wait.
            RunhistoryError: a value queued earlier was refused by the store (the first error).
        """
        # A marker even when the deque is empty: the writer may hold a batch it has not stored.
        if self._thread is not None:
            marker = _FlushMarker()
            self._items.append(marker)
            self._wake.set()
            if not marker.done.wait(timeout_seconds):
                raise FlushTimeoutError(
                    f"flush timed out after {timeout_seconds} s with {len(self._items)} metric "
                    f"values not yet stored; they stay queued and are written in the background",
                    pending=len(self._items),
                )
        self._raise_errors()

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
            batch, markers = self._take_batch()
            if batch:
                self._write(batch)
            for marker in markers:
                marker.done.set()
            with self._room:
                self._room.notify_all()

    def _take_batch(self) -> tuple[list[QueueItem], list[_FlushMarker]]:
        batch: list[QueueItem] = []
        markers: list[_FlushMarker] = []
        items = self._items
        while items and len(batch) < self._batch_size:
            item = items.popleft()
            if type(item) is _FlushMarker:
                markers.append(item)
                break  # everything before the marker is in this batch
            batch.append(item)
        return batch, markers

    def _write(self, batch: list[QueueItem]) -> None:
        for run_id, writes in group_writes(batch).items():
            try:
                self._store_with_retry(run_id, writes)
            except ValidationError:
                self._store_one_by_one(run_id, writes)
            except RunhistoryError as exc:
                self._errors.append(exc)
            except Exception as exc:  # never let the writer thread die silently
                self._errors.append(StorageError(f"storing metrics of run {run_id!r} failed: {exc!r}"))

    def _store_with_retry(self, run_id: str, writes: list[MetricWrite]) -> None:
        for delay in (*_RETRY_DELAYS, None):
            try:
                self._sink(run_id, writes)
                return
            except StorageError:
                if delay is None:
                    raise
                time.sleep(delay)

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


def group_writes(batch: Sequence[QueueItem]) -> dict[str, list[MetricWrite]]:
    """Group queued values into one ``MetricWrite`` per (run, metric), keeping their order."""
    grouped: dict[str, dict[str, tuple[str, str, list[Any]]]] = {}
    for run_id, name, kind, description, step, vtype, number, text, when in batch:
        per_run = grouped.get(run_id)
        if per_run is None:
            per_run = grouped[run_id] = {}
        entry = per_run.get(name)
        if entry is None:
            entry = per_run[name] = (kind, description, [])
        entry[2].append((step, vtype, number, text, when))
    return {
        run_id: [MetricWrite(name, kind, points, description) for name, (kind, description, points) in per_run.items()]
        for run_id, per_run in grouped.items()
    }


_QUEUES: weakref.WeakSet[MetricQueue] = weakref.WeakSet()


def flush_all(timeout_seconds: float = 60) -> None:
    """Flush every queue of this process (called at interpreter exit)."""
    for queue in list(_QUEUES):
        try:
            queue.flush(timeout_seconds)
        except RunhistoryError as exc:
            import sys

            print(f"runhistory: {exc}", file=sys.stderr)


def _reset_after_fork() -> None:
    for queue in list(_QUEUES):
        queue._after_fork()


atexit.register(flush_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
