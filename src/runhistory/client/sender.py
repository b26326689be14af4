"""The background sender: spooled metric batches to the server, in order, many per request.

:class:`SpoolSender` is the remote backend's ``log_metrics``: it spools the batch (so it
survives a dead server or a dead process) and returns; its thread sends up to
:data:`MAX_POINTS_PER_REQUEST` points per gzip-compressed request, retries with backoff while
the server is unreachable, and deletes each batch once the server acknowledged it.

The server answers batch by batch; a refused batch is kept as an error of its run (raised by
that run's ``flush()``/``complete()``). A request refused as a whole (it can never succeed:
an unreadable spool file, an older server that answers for the whole request) is split in
halves and sent again, down to single batches, so a bad batch never costs another one.
"""

from __future__ import annotations

import gzip
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from typing import Any

import httpx

from runhistory.client.http import HttpClient, raise_for_error
from runhistory.client.run_errors import RunErrors
from runhistory.client.spool import SpoolDir, SpooledBatch, remove_empty_orphans
from runhistory.client.wire import encode_writes, loads
from runhistory.errors import (
    AuthenticationError,
    FlushTimeoutError,
    PermissionDeniedError,
    RunhistoryError,
    StorageError,
    error_class_by_name,
)
from runhistory.retry import Backoff
from runhistory.tracking.entities import MetricWrite

MAX_POINTS_PER_REQUEST = 200_000
MAX_BYTES_PER_REQUEST = 32 * 1024 * 1024
MEMORY_BYTES = 64 * 1024 * 1024  # batch bytes kept in memory; beyond, re-read from the spool
_BACKOFF = Backoff(first=0.1, cap=5.0)  # the pauses between tries; spooled batches never expire


class BatchSender:
    """Sends spooled batches to the server (no thread: the caller drives it)."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self.max_points = MAX_POINTS_PER_REQUEST

    def send(self, group: Sequence[SpooledBatch]) -> list[RunhistoryError | None]:
        """Send a group in one request; returns each batch's refusal (None when stored).

        Raises:
            StorageError: the server is unreachable or failed; send the group again later.
            RunhistoryError: the server refused the whole request (auth, size, shape).
        """
        body = b'{"batches":[' + b",".join(b.load() for b in group) + b"]}"
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        try:
            response = self.http._client.post(
                "/metrics/batches", content=gzip.compress(body, compresslevel=1), headers=headers
            )
        except httpx.TransportError as exc:
            raise StorageError(f"cannot reach {self.http.base_url}: {exc!r}") from exc
        raise_for_error(response)
        return [_refusal(result) for result in loads(response.content)["results"]]


def _refusal(result: dict[str, Any]) -> RunhistoryError | None:
    errors = result.get("errors") or []
    if not errors:
        return None
    first = errors[0]
    error = error_class_by_name(first.get("error", ""))(first.get("message", ""))
    if len(errors) > 1:
        error.message += f" (and {len(errors) - 1} more refused metric writes)"
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
        self._memory = 0
        self._errors = RunErrors()
        self._changed = threading.Condition()
        self._noted = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="runhistory-sender", daemon=True)
        self._thread.start()

    @property
    def spool_path(self) -> str:
        """Where this process's unsent batches are."""
        return self._spool.path

    def submit(self, run_id: str, writes: Sequence[MetricWrite], batch_id: str | None) -> bool:
        """Spool one batch (written to disk before this returns) for sending."""
        points = sum(len(w.points) for w in writes)
        record = {"run_id": run_id, "batch_id": batch_id or uuid.uuid4().hex,
                  "writes": encode_writes(writes)}  # fmt: skip
        with self._changed:
            batch = self._spool.append(record, points, self._memory < MEMORY_BYTES)
            self._memory += len(batch.data or b"")
            self._pending.append(batch)
            self._unsent_points += points
            self._changed.notify_all()
        return True

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
        with self._changed:
            while self._pending and time.monotonic() < deadline:
                self._changed.wait(min(0.5, max(deadline - time.monotonic(), 0.001)))
            if self._pending:
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

    # ---- the thread ---------------------------------------------------------------------
    def _run(self) -> None:
        failures = 0
        while True:
            with self._changed:
                while not self._pending and not self._closed:
                    self._changed.wait(1.0)
                if not self._pending:
                    return
                group = self._take_group()
            if self._send(group):
                failures = 0
            else:
                failures += 1
                delay = _BACKOFF.delay(failures)
                with self._changed:
                    if self._closed and failures > 3:
                        return
                    self._changed.wait(delay)

    def _take_group(self) -> list[SpooledBatch]:
        group: list[SpooledBatch] = []
        points = size = 0
        for batch in self._pending:
            length = len(batch.data) if batch.data is not None else 1 << 20
            if group and (points + batch.points > self._sender.max_points
                          or size + length > MAX_BYTES_PER_REQUEST):  # fmt: skip
                break
            group.append(batch)
            points += batch.points
            size += length
        return group

    def _send(self, group: list[SpooledBatch]) -> bool:
        """Send ``group`` (split and sent again if refused as a whole); False to retry later."""
        try:
            refusals = self._sender.send(group)
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
                return self._send(group[:half]) and self._send(group[half:])
            refusals = [exc]  # this batch alone can never be stored: its run raises
        self._acknowledge(group, refusals)
        return True

    def _note_error(self, exc: RunhistoryError) -> None:
        if not self._noted:  # once until the next flush (it is retried meanwhile)
            self._noted = True
            self._errors.add(None, exc)

    def _acknowledge(
        self, group: list[SpooledBatch], refusals: list[RunhistoryError | None]
    ) -> None:
        for batch in group:
            self._spool.remove(batch)
        with self._changed:
            for batch, refusal in zip(group, refusals, strict=True):
                self._pending.popleft()
                self._unsent_points -= batch.points
                self._memory -= len(batch.data or b"")
                if refusal is not None:
                    self._errors.add(batch.run_id, refusal)
            self._changed.notify_all()

    def close(self, timeout_seconds: float = 5.0) -> None:
        """Stop the thread; batches it could not send stay spooled for ``runhistory sync``."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join(timeout_seconds)
        with self._changed:
            left = self._unsent_points
        if not self._spool.close() and left:
            print(
                f"runhistory: {left} metric values were not sent to {self.tracking_uri}; they "
                f"are kept in {self._spool.path}; run 'runhistory sync' to send them",
                file=sys.stderr,
            )
