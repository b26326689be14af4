"""A batch of run changes whose runs name their environments by id is encoded short alone; its
whole form (what the spool keeps, and what goes to a server that lacks the environment) is
made only when needed, and is exactly what encoding it whole at once gives."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from runhistory.client import change_wire
from runhistory.client.change_wire import dumps_batch, encode_changes
from runhistory.client.sender import SpoolSender
from runhistory.errors import UnknownEnvironmentError
from runhistory.sdk.environment_info import shared_environment
from runhistory.tracking.entities import PropertyChange, RunChanges, RunCreate, StatusChange


class _Server:
    """Stands for the HTTP client: knows environments once sent whole, answers that it does
    not know one otherwise; holds a request while ``release`` is clear."""

    def __init__(self) -> None:
        self.known: set[str] = set()
        self.bodies: list[dict[str, Any]] = []
        self.release = threading.Event()
        self.release.set()

    def post_bytes(
        self, path: str, content: bytes, headers: dict[str, str], timeout: float | None = None
    ) -> Any:
        self.release.wait(10)
        body = json.loads(content)
        self.bodies.append(body)
        for batch in body["batches"]:
            for create in batch["changes"].get("creates", ()):
                if "environment" in create["run_definition"]:
                    self.known.add(create["environment_id"])
                elif create["environment_id"] not in self.known:
                    raise UnknownEnvironmentError("unknown environment id")
        return {"results": [{"stored": True, "errors": []}] * len(body["batches"])}


def _changes(run_id: str) -> RunChanges:
    create = RunCreate(run_id, "exp-1", "Running", time.time(),
                       run_definition={"environment": shared_environment()})  # fmt: skip
    changes = RunChanges(creates=[create], checked=True)
    changes.properties.append(PropertyChange(run_id, {"lr": "0.1"}))
    changes.statuses.append(StatusChange(run_id, "Completed", time.time()))
    return changes


def _files(folder: str) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.endswith(".batch"))


def test_runs_sent_alone_travel_short_after_the_first_and_keep_no_whole_form() -> None:
    server = _Server()
    sender = SpoolSender(server, "http://127.0.0.1:9")  # type: ignore[arg-type]
    try:
        for n in range(3):
            sender.submit_changes(_changes(f"run-{n}"), environment_ids=True)
            batch = sender._pending[-1]
            assert batch.data is None and batch.short is not None  # no whole form made
            assert batch.size > len(batch.short)  # sized as sent whole
            sender.wait_until_sent(10)
        creates = [b["batches"][0]["changes"]["creates"][0] for b in server.bodies]
        assert ["environment" in c["run_definition"] for c in creates] == [True, False, False]
        assert _files(sender.spool_path) == []
    finally:
        sender.close()


def test_a_batch_written_to_the_spool_is_its_whole_form() -> None:
    server = _Server()
    server.release.clear()  # the first request hangs: the next batch waits, on disk
    sender = SpoolSender(server, "http://127.0.0.1:9")  # type: ignore[arg-type]
    try:
        sender.submit_changes(_changes("run-1"), environment_ids=True)
        deadline = time.monotonic() + 10
        while not sender._sending and time.monotonic() < deadline:
            time.sleep(0.01)
        changes = _changes("run-2")
        sender.submit_changes(changes, environment_ids=True)
        names = _files(sender.spool_path)
        assert names == ["000000000001.batch", "000000000002.batch"]
        spooled = Path(sender.spool_path, names[1]).read_bytes()
        record = orjson.loads(spooled)
        fresh = {"batch_id": record["batch_id"], "run_ids": ["run-2"],
                 "changes": encode_changes(changes, True)}  # fmt: skip
        assert spooled == dumps_batch(fresh, True)  # as encoding it whole at once
        assert "environment" in record["changes"]["creates"][0]["run_definition"]
        server.release.set()
        sender.wait_until_sent(10)
        assert _files(sender.spool_path) == []
    finally:
        server.release.set()
        sender.close()


def test_the_short_form_is_the_one_made_with_the_whole() -> None:
    changes = _changes("run-1")
    record = {"batch_id": "b1", "run_ids": ["run-1"], "changes": encode_changes(changes, True)}
    data, short, named = change_wire.dumps_batch_forms(record, True)
    alone, short_alone, named_alone = change_wire.dumps_batch_forms(record, True, whole=False)
    assert alone is None and short_alone == short and named_alone == named
    assert data == dumps_batch(record, True)
    assert abs(change_wire.whole_size(record, short_alone) - len(data)) < 64
