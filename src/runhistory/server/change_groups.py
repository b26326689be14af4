"""Group commit: batches of run changes of concurrent requests stored in one transaction.

Many clients writing runs behind each send a small request at a time (a run or two) and wait
for its answer. Stored one request per transaction, every request pays for a transaction of
its own (and its round trips to the database). Here a request's batches join a queue; a
writer per server process takes everything queued when it is free and stores it with
:meth:`~runhistory.tracking.changes.ChangeRules.write_changes_together`, in one transaction,
while the next requests queue up. Each request is still answered with its own batches'
outcome; a bad batch is stored on its own and costs no other batch anything.

A request waits at most for the groups in flight and its own: with no other request around,
its batches are stored at once, as before. Up to :data:`WRITERS` groups are in flight at once
per server process (one by default): the requests that arrive while a group is being stored
wait and form the next group, so the busier the server, the bigger its groups and the fewer
its transactions and disk flushes. (Two writers a process paid off when a group took eight
round trips to the database; since new runs are stored with one statement, a second writer
mostly halves the groups: measured with 8 clients creating runs on 2 cores, one server
process with one writer stored ~1,040 runs/s at 0.46 ms of server and 0.34 ms of PostgreSQL
CPU a run, with two writers ~830 runs/s at 0.70 and 0.53 ms.)

A writer takes its group on the event loop, in the loop's next turn after a request queued
(so every request that arrived in the same turn joins it), and stores it in a thread of its
own: up to :data:`WRITERS` threads per process, started when first needed and ended after
:data:`IDLE_SECONDS` without work. The thread answers through the loop
(``call_soon_threadsafe``), once per group. (The generic worker-thread hop of the ASGI
framework cost more of the server's CPU per run than storing a small group's statements.)

Operators see the groups in ``/metrics``: ``runhistory_change_group_batches`` (batches a group)
and ``runhistory_change_group_seconds`` (the time to store one).
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Sequence

from runhistory.errors import RunhistoryError, StorageError
from runhistory.server.operations import meters
from runhistory.tracking.entities import RunChanges
from runhistory.tracking.service import TrackingService

Item = tuple[RunChanges, str]  # a batch of run changes and its batch id
Errors = list[list[RunhistoryError]]  # each batch's errors
Waiting = tuple[Sequence[Item], "asyncio.Future[Errors]"]  # a request's batches, its answer
MAX_GROUP_BATCHES = 512  # batches stored in one transaction at most
WRITERS = 1  # groups in flight at once per process (see the module's description)
IDLE_SECONDS = 10.0  # a writer thread without work this long ends


class ChangeGroups:
    """The queue and writers of one server process (create it per application).

    Args:
        service: the tracking service that stores the groups.
        max_batches: batches stored together at most.
        writers: groups stored at once at most.
    """

    def __init__(
        self, service: TrackingService, max_batches: int = MAX_GROUP_BATCHES, writers: int = WRITERS
    ) -> None:
        self.service = service
        self.max_batches = max_batches
        self.writers = writers
        # the event loop's side (touched on the loop serving the requests only)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: list[Waiting] = []
        self._active = 0  # writers taking or storing a group
        # the threads' side
        self._jobs: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, list[Waiting]]] = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a job that none was promised to
        self._threads = 0

    @property
    def threads(self) -> int:
        """The writer threads alive now (at most ``writers``; none after a quiet while)."""
        return self._threads

    async def write(self, items: Sequence[Item]) -> Errors:
        """Store a request's batches (with those of concurrent requests); each one's errors.

        Raises:
            StorageError: the store is unavailable; the request's batches may be retried
                (their batch ids keep them stored once).
        """
        if not items:
            return []
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # the first request, or of a loop the app serves now
            self._loop, self._active = loop, 0
            self._queue = [q for q in self._queue if q[1].get_loop() is loop]
        future: asyncio.Future[Errors] = loop.create_future()
        self._queue.append((items, future))
        if self._active < self.writers:
            self._active += 1
            loop.call_soon(self._next, loop)  # the requests of this turn join the group
        return await future

    def _next(self, loop: asyncio.AbstractEventLoop) -> None:
        """A free writer (on the loop): take the next group to its thread, or stop."""
        if loop is not self._loop:
            return  # the app serves another loop now (its own writers took over)
        group = self._take()
        if not group:
            self._active -= 1
            return
        with self._lock:
            start = self._idle == 0
            if start:
                self._threads += 1
            else:
                self._idle -= 1
        if start:
            try:
                threading.Thread(target=self._work, name="runhistory-change-groups",
                                 daemon=True).start()  # fmt: skip
            except RuntimeError as exc:  # no thread to be had: the requests may come again
                with self._lock:
                    self._threads -= 1
                failure = StorageError(f"the server cannot start a thread to store with: {exc}")
                self._answer(loop, group, None, failure)
                return
        self._jobs.put((loop, group))

    def _take(self) -> list[Waiting]:
        taken, count = 0, 0
        for items, _ in self._queue:
            if taken and count + len(items) > self.max_batches:
                break
            taken += 1
            count += len(items)
        group, self._queue[:] = self._queue[:taken], self._queue[taken:]
        return group

    def _work(self) -> None:
        """A writer thread: store the groups handed to it until idle for too long."""
        while True:
            try:
                loop, group = self._jobs.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._idle:  # no job is promised to a waiting thread: this one ends
                        self._idle -= 1
                        self._threads -= 1
                        return
                loop, group = self._jobs.get()  # one is being handed over
            flat = [item for items, _ in group for item in items]
            results: Errors | None = None
            failure: BaseException | None = None
            started = time.perf_counter()
            try:
                results = self.service.write_changes_together(flat)
            except BaseException as exc:  # every request of the group answers it (503)
                failure = exc
            found = meters()
            found.group_seconds.observe(time.perf_counter() - started)
            found.group_batches.observe(len(flat))
            ending = failure is not None and not isinstance(failure, Exception)
            with self._lock:
                if ending:
                    self._threads -= 1
                else:
                    self._idle += 1  # before answering: the loop may hand the next group
            try:
                loop.call_soon_threadsafe(self._answer, loop, group, results, failure)
            except RuntimeError:
                pass  # the loop is closed: nobody waits for these answers any more
            if ending:
                raise failure  # type: ignore[misc]

    def _answer(
        self,
        loop: asyncio.AbstractEventLoop,
        group: list[Waiting],
        results: Errors | None,
        failure: BaseException | None,
    ) -> None:
        """Answer a stored group's requests (on the loop); the writer goes on."""
        start = 0
        for items, future in group:
            if not future.done():  # a request whose client went away is cancelled
                if failure is not None:
                    future.set_exception(failure)
                else:
                    future.set_result(results[start : start + len(items)])  # type: ignore[index]
            start += len(items)
        self._next(loop)
