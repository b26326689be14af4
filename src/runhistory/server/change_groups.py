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
per server process: while one group's commit waits for the database's disk flush, the next
group's statements run (and PostgreSQL flushes the commits that arrive together at once);
with one writer the process sat idle during every flush.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool

from runhistory.errors import RunhistoryError
from runhistory.tracking.entities import RunChanges
from runhistory.tracking.service import TrackingService

Item = tuple[RunChanges, str]  # a batch of run changes and its batch id
MAX_GROUP_BATCHES = 512  # batches stored in one transaction at most
WRITERS = 2  # groups in flight at once (see the module's description)


class ChangeGroups:
    """The queue and writer of one server process (create it per application).

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
        self._queue: list[tuple[Sequence[Item], asyncio.Future[list[list[RunhistoryError]]]]] = []
        self._writers: set[asyncio.Task[None]] = set()

    async def write(self, items: Sequence[Item]) -> list[list[RunhistoryError]]:
        """Store a request's batches (with those of concurrent requests); each one's errors.

        Raises:
            StorageError: the store is unavailable; the request's batches may be retried
                (their batch ids keep them stored once).
        """
        if not items:
            return []
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[list[RunhistoryError]]] = loop.create_future()
        writers = {w for w in self._writers if not w.done() and w.get_loop() is loop}
        if len(writers) < len(self._writers):  # ended, or of a loop the app no longer serves
            self._queue = [q for q in self._queue if q[1].get_loop() is loop]
        self._queue.append((items, future))
        if len(writers) < self.writers:
            writers.add(asyncio.create_task(self._drain()))
        self._writers = writers
        return await future

    async def _drain(self) -> None:
        while self._queue:
            group = self._take()
            flat = [item for items, _ in group for item in items]
            try:
                results = await run_in_threadpool(self.service.write_changes_together, flat)
            except BaseException as exc:  # every request of the group answers it (503)
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            start = 0
            for items, future in group:
                if not future.done():  # a request whose client went away is cancelled
                    future.set_result(results[start : start + len(items)])
                start += len(items)

    def _take(self) -> list[tuple[Sequence[Item], asyncio.Future[list[list[RunhistoryError]]]]]:
        taken, count = 0, 0
        for items, _ in self._queue:
            if taken and count + len(items) > self.max_batches:
                break
            taken += 1
            count += len(items)
        group, self._queue[:] = self._queue[:taken], self._queue[taken:]
        return group
