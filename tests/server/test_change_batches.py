"""Runs written behind over HTTP: ``POST /changes/batches`` and the remote client's spool.

Every test runs against a real ``runhistory server`` subprocess, on a SQLite file and on
PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import serving
from runhistory import Experiment, Run, Workspace
from runhistory.client.sender import BatchSender
from runhistory.errors import PropertyImmutableError
from support.services import ServerProcess, server_on, start_server

STORES = ["sqlite", "postgresql"]


@pytest.fixture(params=STORES)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """A real server subprocess on a SQLite workspace or on a fresh PostgreSQL database."""
    with server_on(
        request.param, tmp_path, "rh_chg", workspace=True, home="server-home"
    ) as started:
        yield started


def _experiment_id(server: ServerProcess, name: str) -> str:
    answer = httpx.post(f"{server.url}/api/v1/experiments", json={"name": name}, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["experiment_id"])


def _create(run_id: str, experiment_id: str, **more: Any) -> dict[str, Any]:
    return {"run_id": run_id, "experiment_id": experiment_id, "status": "Running",
            "created_time": time.time(), **more}  # fmt: skip


def _metric(name: str, values: list[float]) -> dict[str, Any]:
    n = len(values)
    columns = [list(range(n)), [0] * n, values, [None] * n, [time.time()] * n]
    return {"name": name, "kind": "scalar", "columns": columns}


def _post(server: ServerProcess, batches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answer = httpx.post(f"{server.url}/api/v1/changes/batches", json={"batches": batches},
                        timeout=60)  # fmt: skip
    assert answer.status_code == 200, answer.text
    results: list[dict[str, Any]] = answer.json()["results"]
    return results


def _get(server: ServerProcess, path: str, **params: Any) -> Any:
    answer = httpx.get(f"{server.url}/api/v1{path}", params=params, timeout=30)
    answer.raise_for_status()
    return answer.json()


def test_a_retried_batch_is_stored_once(server: ServerProcess) -> None:
    experiment_id = _experiment_id(server, "once")
    a, b = f"once_a_{uuid.uuid4().hex[:8]}", f"once_b_{uuid.uuid4().hex[:8]}"
    changes = {
        "creates": [_create(a, experiment_id, tags={"t": "1"}), _create(b, experiment_id)],
        "tags": [{"run_id": b, "set": {"k": "v"}}],
        "properties": [{"run_id": a, "properties": {"p": "x"}}],
        "metrics": {a: [_metric("loss", [3.0, 2.0, 1.0])], b: [_metric("acc", [0.5])]},
        "statuses": [{"run_id": a, "status": "Completed", "time": time.time()}],
    }
    batch = {"batch_id": uuid.uuid4().hex, "changes": changes}
    first = _post(server, [batch])
    again = _post(server, [batch])  # the client did not see the answer and sent it again
    assert first == [{"stored": True, "errors": []}]
    assert again == [{"stored": True, "errors": []}]
    history = _get(server, f"/runs/{a}/metrics/history", name="loss")
    assert history["values"] == [3.0, 2.0, 1.0]
    assert _get(server, f"/runs/{b}/metrics/history", name="acc")["values"] == [0.5]
    listed = _get(server, "/runs", experiment_id=experiment_id)["items"]
    assert sorted(r["run_id"] for r in listed) == sorted([a, b])
    run_a = _get(server, f"/runs/{a}")
    assert (run_a["status"], run_a["tags"], run_a["properties"]) == (
        "Completed", {"t": "1"}, {"p": "x"},
    )  # fmt: skip
    assert _get(server, f"/runs/{b}")["tags"] == {"k": "v"}


def test_a_bad_change_in_a_batch_costs_nothing_else(server: ServerProcess) -> None:
    experiment_id = _experiment_id(server, "apart")
    good, clash, orphan = (f"{p}_{uuid.uuid4().hex[:8]}" for p in ("good", "clash", "orphan"))
    _post(server, [{"batch_id": uuid.uuid4().hex, "changes": {
        "creates": [_create(clash, experiment_id, properties={"seed": "1"})]}}])  # fmt: skip
    changes = {
        "creates": [_create(good, experiment_id),
                    _create(orphan, "no-such-experiment", tags={"lost": "yes"})],
        "tags": [{"run_id": good, "set": {"kept": "yes"}}, {"run_id": orphan, "set": {"x": "1"}}],
        "properties": [{"run_id": clash, "properties": {"seed": "2"}},
                       {"run_id": good, "properties": {"lr": "0.1"}}],
        "metrics": {good: [_metric("loss", [1.0, 0.5])], clash: [_metric("loss", [9.0])]},
        "statuses": [{"run_id": clash, "status": "Completed", "time": time.time()},
                     {"run_id": good, "status": "Failed", "time": time.time()}],
    }  # fmt: skip
    batch = {"batch_id": uuid.uuid4().hex, "changes": changes}
    [result] = _post(server, [batch])
    errors = {e["fields"]["run_id"]: e for e in result["errors"]}
    assert sorted(errors) == sorted([clash, orphan])
    assert errors[clash]["error"] == "PropertyImmutableError"
    assert errors[orphan]["error"] == "NotFoundError"
    assert "no-such-experiment" in errors[orphan]["message"]
    stored = _get(server, f"/runs/{good}")
    assert (stored["status"], stored["tags"], stored["properties"]) == (
        "Failed", {"kept": "yes"}, {"lr": "0.1"},
    )  # fmt: skip
    assert _get(server, f"/runs/{good}/metrics/history", name="loss")["values"] == [1.0, 0.5]
    other = _get(server, f"/runs/{clash}")
    assert (other["status"], other["properties"]) == ("Completed", {"seed": "1"})
    assert _get(server, f"/runs/{clash}/metrics/history", name="loss")["values"] == [9.0]
    missing = httpx.get(f"{server.url}/api/v1/runs/{orphan}", timeout=30)
    assert missing.status_code == 404
    [retried] = _post(server, [batch])  # pieces stored once, the bad ones refused again
    assert _get(server, f"/runs/{good}/metrics/history", name="loss")["values"] == [1.0, 0.5]
    assert _get(server, f"/runs/{clash}/metrics/history", name="loss")["values"] == [9.0]
    assert {e["fields"]["run_id"] for e in retried["errors"]} <= {clash, orphan}


def test_a_malformed_batch_is_refused_alone(server: ServerProcess) -> None:
    experiment_id = _experiment_id(server, "shapes")
    run_id = f"fine_{uuid.uuid4().hex[:8]}"
    results = _post(server, [
        {"batch_id": "b1", "changes": {"creates": [{"run_id": 5}]}},
        {"batch_id": "b2", "changes": {"creates": [_create(run_id, experiment_id)]}},
        {"batch_id": "", "changes": {}},
    ])  # fmt: skip
    assert [r["stored"] for r in results] == [False, True, False]
    assert "'run_id' must be str" in results[0]["errors"][0]["message"]
    assert "batch_id" in results[2]["errors"][0]["message"]
    assert _get(server, f"/runs/{run_id}")["status"] == "Running"


def test_runs_written_behind_are_seen_in_order_by_this_process(server: ServerProcess) -> None:
    workspace = Workspace(tracking_uri=server.url)
    experiment = Experiment(workspace, "order")
    runs = [experiment.start_logging() for _ in range(20)]
    for round_ in range(5):  # interleaved: every run's changes in their own order
        for index, run in enumerate(runs):
            run.set_tags({"round": str(round_), f"r{round_}": str(index)})
            if round_ == 2:
                run.remove_tags(["r0", "r1"])
            run.log("step", float(round_))
    seen = Run.get(workspace, runs[7].id)  # no flush: the read waits for the writes
    assert seen.get_tags() == {"round": "4", "r2": "7", "r3": "7", "r4": "7"}
    listed = {r.id for r in Run.list(experiment)}
    assert listed == {r.id for r in runs}
    for index, run in enumerate(runs):
        run.add_properties({"index": str(index)})
        run.fail() if index % 2 else run.complete()
    for index, run in enumerate(runs):
        stored = Run.get(workspace, run.id)
        assert stored.get_status() == ("Failed" if index % 2 else "Completed")
        assert stored.get_properties() == {"index": str(index)}
        assert stored.get_metrics()["step"] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_a_refused_change_is_raised_by_its_run_only(server: ServerProcess) -> None:
    workspace = Workspace(tracking_uri=server.url)
    experiment = Experiment(workspace, "refusals")
    mine, other = experiment.start_logging(), experiment.start_logging()
    mine.add_properties({"seed": "1"})
    mine.flush()
    httpx.post(f"{server.url}/api/v1/runs/{mine.id}/properties", json={"owner": "x"},
               timeout=30).raise_for_status()  # fmt: skip
    # Another process set 'owner' meanwhile: only the store can refuse this one.
    mine.add_properties({"owner": "y"})
    other.set_tags({"fine": "yes"})
    other.complete()  # not raised by another run
    with pytest.raises(PropertyImmutableError) as caught:
        mine.complete()
    assert "owner" in str(caught.value)
    assert Run.get(workspace, other.id).get_tags() == {"fine": "yes"}


_DYING = """
import os, signal, sys
from runhistory import Experiment, Workspace
from runhistory.errors import FlushTimeoutError
experiment = Experiment(Workspace(tracking_uri=sys.argv[1]), "dying")
first = experiment.start_logging()
first.complete()
print(first.id, flush=True)
sys.stdin.readline()  # the test stops the server now
ids = []
for i in range(30):
    run = experiment.start_logging()
    run.set_tags({"i": str(i)})
    run.add_properties({"p": str(i)})
    for step in range(3):
        run.log("m", float(i * 10 + step))
    ids.append(run.id)
try:
    run.flush(timeout_seconds=1)
except FlushTimeoutError as exc:
    print("pending", exc.fields["pending"], flush=True)
print(" ".join(ids), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_client_killed_after_flush_loses_nothing(server: ServerProcess, tmp_path: Path) -> None:
    script = tmp_path / "dying.py"
    script.write_text(textwrap.dedent(_DYING), encoding="utf-8")
    child = subprocess.Popen([sys.executable, str(script), server.url], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert child.stdout is not None and child.stdin is not None
    child.stdout.readline()
    server.stop()
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.stdout.readline().split() == ["pending", "90"]
    ids = child.stdout.readline().split()
    assert child.wait(60) == -signal.SIGKILL
    assert list((Path(os.environ["RUNHISTORY_HOME"]) / "spool").glob("*/*/*.batch"))
    server.restart()
    runhistory = str(Path(sys.executable).with_name("runhistory"))
    result = subprocess.run([runhistory, "sync"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "sent 90 metric values" in result.stdout
    workspace = Workspace(tracking_uri=server.url)
    for i, run_id in enumerate(ids):
        run = Run.get(workspace, run_id)
        assert run.get_tags() == {"i": str(i)}
        assert run.get_properties() == {"p": str(i)}
        assert run.get_metrics()["m"] == [float(i * 10 + s) for s in range(3)]
        assert run.get_status() == "Running"


def test_a_server_restart_mid_stream_loses_and_repeats_nothing(server: ServerProcess) -> None:
    workspace = Workspace(tracking_uri=server.url)
    experiment = Experiment(workspace, "restart")
    experiment.start_logging().complete()  # the server said it takes batches
    runs = []
    for i in range(150):
        if i == 50:
            server.process.send_signal(signal.SIGKILL)  # a crash: requests in flight cut off
            server.process.wait()
        if i == 100:
            server.restart()
        run = experiment.start_logging()
        run.set_tags({"i": str(i)})
        run.log("m", float(i))
        run.log("m", float(i) + 0.5)
        runs.append(run)
    for run in runs:
        run.complete()
    stored = {r.id: r for r in Run.list(experiment, status="Completed")}
    assert len(stored) == 151
    for i, run in enumerate(runs):
        again = stored[run.id]
        assert again.get_tags() == {"i": str(i)}
        assert again.get_metrics()["m"] == [float(i), float(i) + 0.5]


def test_a_read_only_token_cannot_send_batches(tmp_path: Path) -> None:
    from runhistory.server.config import ServerSettings, open_services

    settings = ServerSettings(backend_store_uri=str(tmp_path / "ws"), auth=True)
    tokens = open_services(settings).tokens
    assert tokens is not None
    reader, _ = tokens.create("reader", scope="read")
    writer, _ = tokens.create("writer")
    started = start_server(str(tmp_path / "ws"), tmp_path / "auth.log", extra_args=["--auth"])
    try:
        url = f"{started.url}/api/v1/changes/batches"
        body = {"batches": []}
        for token, status in ((None, 401), (reader, 403), (writer, 200)):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            assert httpx.post(url, json=body, headers=headers, timeout=30).status_code == status
    finally:
        started.stop()


class _WithoutChangeBatches:
    """The real app as a server from before ``/changes/batches``: its ``/server-info`` names no
    features and the endpoint is not there (404); every path asked is recorded."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        self.paths.append(path)
        if path.endswith("/changes/batches"):
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b'{"detail":"Not Found"}'})
            return
        if path.endswith("/server-info"):
            body = b'{"version": "0.0.9", "public_url": null}'
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def test_an_older_server_gets_one_request_per_change(tmp_path: Path) -> None:
    from runhistory.server.app import create_app
    from runhistory.server.config import ServerSettings, open_services

    settings = ServerSettings(backend_store_uri=str(tmp_path / "old-ws"))
    old = _WithoutChangeBatches(create_app(settings, open_services(settings)))
    with serving(old) as http:  # type: ignore[arg-type]
        workspace = Workspace(tracking_uri=str(http.base_url).rstrip("/"))
        run = Experiment(workspace, "older").start_logging()
        assert not workspace._connection.queue.takes_changes
        run.set_tags({"k": "v"})
        run.add_properties({"p": "1"})
        run.log("m", 1.0)
        run.complete()
        stored = Run.get(workspace, run.id)
        assert (stored.get_status(), stored.get_tags(), stored.get_properties()) == (
            "Completed", {"k": "v"}, {"p": "1"},
        )  # fmt: skip
        assert stored.get_metrics()["m"] == 1.0
    assert not [p for p in old.paths if p.endswith("/changes/batches")]
    assert any(p.endswith(f"/runs/{run.id}/tags") for p in old.paths)


def test_a_flush_sends_its_batch_from_the_flushing_thread(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``complete()`` sends its run's batch itself when nothing else is in flight (no hand-off
    to the sender's thread and back); a batch spooled with no flush is the thread's."""
    workspace = Workspace(tracking_uri=server.url)
    experiment = Experiment(workspace, "inline")
    experiment.start_logging().complete()  # the server said it takes batches
    senders: list[str] = []
    send = BatchSender.send

    def recorded(self: BatchSender, group: Any, timeout: float | None = None) -> Any:
        senders.append(threading.current_thread().name)
        return send(self, group, timeout)

    monkeypatch.setattr(BatchSender, "send", recorded)
    for _ in range(10):  # the writer's thread may take a slow run's changes first
        run = experiment.start_logging()
        run.log("m", 1.0)
        run.complete()
    assert threading.current_thread().name in senders
    senders.clear()
    other = experiment.start_logging()
    other.log("m", 2.0)  # no flush: the writer stores it, the sender's thread sends it
    deadline = time.monotonic() + 60
    while "runhistory-sender" not in senders and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "runhistory-sender" in senders
    other.complete()
    assert Run.get(workspace, run.id).get_metrics() == {"m": 1.0}
    assert Run.get(workspace, other.id).get_metrics() == {"m": 2.0}
    assert Run.get(workspace, other.id).get_status() == "Completed"
