"""When the spool sender writes a batch to disk: not while the server answers and nothing
else waits (the server has it before any flush returns), but as soon as batches wait — the
server away, or behind — every waiting batch, in order."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from runhistory.client.sender import SpoolSender
from runhistory.errors import FlushTimeoutError, StorageError
from runhistory.tracking.entities import MetricWrite


class _Server:
    """Stands for the HTTP client: answers "stored", refuses to be reached while ``away``, or
    holds a request until ``release`` is set; notes the spool files present at each request."""

    def __init__(self) -> None:
        self.away = False
        self.release = threading.Event()
        self.release.set()
        self.files_seen: list[list[str]] = []
        self.spool = ""

    def post_bytes(
        self, path: str, content: bytes, headers: dict[str, str], timeout: float | None = None
    ) -> Any:
        self.files_seen.append(_files(self.spool))
        if not self.release.wait(10 if timeout is None else timeout) and timeout is not None:
            raise StorageError("the server did not answer in time")  # as the HTTP client
        if self.away:
            raise StorageError("cannot reach the server")
        count = len(json.loads(content)["batches"])
        return {"results": [{"stored": True, "errors": []}] * count}


def _files(folder: str) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.endswith(".batch")) if folder else []


def _sender(server: _Server) -> SpoolSender:
    sender = SpoolSender(server, "http://127.0.0.1:9")  # type: ignore[arg-type]
    server.spool = sender.spool_path
    return sender


def _writes(value: float) -> list[MetricWrite]:
    return [MetricWrite.from_columns("loss", "scalar", ((None,), (0,), (value,), (None,),
                                                        (1.0,)), "")]  # fmt: skip


def _wait_for(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_batch_sent_while_nothing_else_waits_never_touches_the_disk() -> None:
    server = _Server()
    sender = _sender(server)
    try:
        for value in (1.0, 2.0, 3.0):
            sender.submit("run-1", _writes(value), None)
            sender.wait_until_sent(10)
        assert server.files_seen == [[], [], []]
        assert _files(sender.spool_path) == []
    finally:
        sender.close()


def test_batches_wait_on_disk_in_order_while_the_server_is_away() -> None:
    server = _Server()
    server.away = True
    sender = _sender(server)
    try:
        sender.submit("run-1", _writes(1.0), "first")
        _wait_for(lambda: _files(sender.spool_path))  # the failed request wrote it
        sender.submit("run-1", _writes(2.0), "second")  # one waits: on disk at once
        names = _files(sender.spool_path)
        assert names == ["000000000001.batch", "000000000002.batch"]
        ids = [json.loads(Path(sender.spool_path, n).read_bytes())["batch_id"] for n in names]
        assert ids == ["first", "second"]
        server.away = False
        sender.wait_until_sent(30)
        assert _files(sender.spool_path) == []
    finally:
        sender.close()


def test_a_batch_behind_a_slow_request_is_written_with_the_one_in_flight() -> None:
    server = _Server()
    server.release.clear()  # the first request hangs until released
    sender = _sender(server)
    try:
        sender.submit("run-1", _writes(1.0), "in-flight")
        _wait_for(lambda: server.files_seen)
        assert server.files_seen == [[]]  # sent from memory
        sender.submit("run-1", _writes(2.0), "behind")
        assert _files(sender.spool_path) == ["000000000001.batch", "000000000002.batch"]
        server.release.set()
        sender.wait_until_sent(10)
        assert _files(sender.spool_path) == []
    finally:
        sender.close()


def test_a_flush_that_times_out_leaves_the_batch_on_disk() -> None:
    server = _Server()
    server.release.clear()
    sender = _sender(server)
    try:
        sender.submit("run-1", _writes(1.0), "slow")
        with pytest.raises(FlushTimeoutError) as caught:
            sender.wait_until_sent(0.2)
        assert caught.value.fields["spool"] == sender.spool_path
        assert _files(sender.spool_path) == ["000000000001.batch"]
    finally:
        server.release.set()
        sender.close()


def test_a_disk_that_refuses_the_spool_keeps_the_batches_in_memory_and_sending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = _Server()
    server.away = True
    sender = _sender(server)
    refused: list[str] = []

    def full_disk(batch: Any) -> None:
        refused.append(batch.path)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sender._spool, "write", full_disk)
    try:
        sender.submit("run-1", _writes(1.0), "kept")
        _wait_for(lambda: refused)  # the failed request tried to spool it, and could not
        server.away = False
        sender.wait_until_sent(30)  # the sender thread lives on and delivers it
        assert server.files_seen and _files(sender.spool_path) == []
    finally:
        sender.close()
