"""Runs written behind over HTTP name their environment by id once the server stored it.

The remote client sends a process's environment whole with its id the first time, then the
id alone; the server takes a stored id without the environment, refuses a request naming one
it has not stored (the client sends it again whole, stored once), refuses an id that does not
match the environment sent with it, and still takes the inline form of older clients. Every
test runs against a real ``runhistory server`` subprocess, on a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from conftest import serving
from runhistory import Experiment, Run, Workspace
from runhistory.client.change_wire import dumps_batch, encode_changes
from runhistory.client.http import HttpClient
from runhistory.sdk.environment_info import shared_environment
from runhistory.tracking.entities import RunChanges, RunCreate
from runhistory.tracking.run_environments import environment_document
from support.services import ServerProcess, postgres_database, server_on, start_server

STORES = ["sqlite", "postgresql"]


@pytest.fixture(params=STORES)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """A real server subprocess on a SQLite workspace or on a fresh PostgreSQL database."""
    with server_on(request.param, tmp_path, "rh_envref", workspace=True) as started:
        yield started


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bytes, str]]:
    """Every request body the spool sender posts, with the answer's error name ('' when
    answered 200): the real client's requests, recorded on their way."""
    seen: list[tuple[str, bytes, str]] = []
    post = HttpClient.post_bytes

    def recorded(
        self: HttpClient, path: str, content: bytes, headers: dict[str, str], **kwargs: Any
    ) -> Any:
        try:
            answer = post(self, path, content, headers, **kwargs)
        except Exception as exc:
            seen.append((path, content, type(exc).__name__))
            raise
        seen.append((path, content, ""))
        return answer

    monkeypatch.setattr(HttpClient, "post_bytes", recorded)
    return seen


def _experiment_id(url: str, name: str) -> str:
    answer = httpx.post(f"{url}/api/v1/experiments", json={"name": name}, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["experiment_id"])


def _environment_id() -> str:
    return environment_document(shared_environment())[0]


def _creates(body: bytes) -> list[dict[str, Any]]:
    found = []
    for batch in orjson.loads(body)["batches"]:
        found += batch.get("changes", {}).get("creates", [])
    return found


def _batch(run_id: str, experiment_id: str, **create: Any) -> dict[str, Any]:
    fields = {"run_id": run_id, "experiment_id": experiment_id, "status": "Running",
              "created_time": time.time(), **create}  # fmt: skip
    return {"batch_id": uuid.uuid4().hex, "changes": {"creates": [fields]}}


def _post(url: str, batches: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/changes/batches", json={"batches": batches}, timeout=60)


def test_a_process_sends_its_environment_once_then_its_id(
    server: ServerProcess, requests: list[tuple[str, bytes, str]]
) -> None:
    experiment = Experiment(Workspace(tracking_uri=server.url), "once")
    runs = []
    for i in range(4):
        run = experiment.start_logging()
        run.set_tags({"i": str(i)})
        run.complete()
        runs.append(run)
    sent = [c for path, body, _ in requests if path == "/changes/batches" for c in _creates(body)]
    assert len(sent) == 4
    environment_id = _environment_id()
    assert all(c["environment_id"] == environment_id for c in sent)
    assert sent[0]["run_definition"]["environment"] == shared_environment()
    assert all("environment" not in (c["run_definition"] or {}) for c in sent[1:])
    for run in runs:  # reads expand the stored environment as ever
        again = Run.get(experiment.workspace, run.id)
        assert again.get_environment() == shared_environment()
        assert again.get_details()["runDefinition"]["environment"] == shared_environment()


def test_an_id_the_server_does_not_know_makes_the_client_send_it_whole(
    server: ServerProcess, requests: list[tuple[str, bytes, str]], tmp_path: Path
) -> None:
    workspace = Workspace(tracking_uri=server.url)
    Experiment(workspace, "first").start_logging().complete()  # the server stored it
    server.stop()
    with ExitStack() as stack:  # the same address, a fresh database: the id is unknown there
        if "postgresql" in server.command[server.command.index("--backend-store-uri") + 1]:
            backend = stack.enter_context(postgres_database("rh_envref_fresh"))
        else:
            backend = f"sqlite:///{tmp_path / 'fresh.db'}"
        fresh = start_server(backend, tmp_path / "fresh.log", port=server.port,
                             artifact_location=str(tmp_path / "fresh-artifacts"))  # fmt: skip
        stack.callback(fresh.stop)
        requests.clear()
        experiment = Experiment(workspace, "fresh")
        run = experiment.start_logging()
        run.log("m", 1.0)
        run.complete()
        posted = [(b, error) for path, b, error in requests if path == "/changes/batches"]
        assert [error for _, error in posted] == ["UnknownEnvironmentError", ""]
        named, whole = (_creates(b)[0] for b, _ in posted)
        assert "environment" not in named["run_definition"]
        assert whole["run_definition"]["environment"] == shared_environment()
        stored = Run.list(experiment)
        assert [r.id for r in stored] == [run.id]  # stored once
        again = Run.get(workspace, run.id)
        assert again.get_environment() == shared_environment()
        assert again.get_metrics()["m"] == 1.0
        assert again.get_status() == "Completed"


def test_a_request_naming_an_unknown_id_is_refused_whole(server: ServerProcess) -> None:
    experiment_id = _experiment_id(server.url, "unknown")
    good, named = f"good_{uuid.uuid4().hex[:8]}", f"named_{uuid.uuid4().hex[:8]}"
    unknown = "ab" * 32
    answer = _post(server.url, [_batch(good, experiment_id),
                                _batch(named, experiment_id, environment_id=unknown)])  # fmt: skip
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["error"] == "UnknownEnvironmentError"
    assert body["fields"]["environment_ids"] == [unknown]
    assert "not stored" in body["message"]
    listed = httpx.get(f"{server.url}/api/v1/runs", params={"experiment_id": experiment_id},
                       timeout=30).json()["items"]  # fmt: skip
    assert listed == []  # nothing of the request was stored


def test_an_id_that_does_not_match_its_environment_is_refused(server: ServerProcess) -> None:
    experiment_id = _experiment_id(server.url, "mismatch")
    environment = {"python": {"version": "3.11"}, "platform": "x"}
    right = environment_document(environment)[0]
    wrong = environment_document({**environment, "platform": "y"})[0]
    bad, good = f"bad_{uuid.uuid4().hex[:8]}", f"good_{uuid.uuid4().hex[:8]}"
    definition = {"environment": environment}
    answer = _post(server.url, [
        _batch(bad, experiment_id, run_definition=definition, environment_id=wrong),
        _batch(good, experiment_id, run_definition=definition, environment_id=right),
        _batch(f"x_{bad}", experiment_id, run_definition=definition, environment_id="nothex"),
    ])  # fmt: skip
    assert answer.status_code == 200, answer.text
    mismatch, stored, malformed = answer.json()["results"]
    assert mismatch["stored"] is False
    [error] = mismatch["errors"]
    assert error["error"] == "ValidationError"
    assert "'environment_id'" in error["message"] and right in error["message"]
    assert "does not match" in error["message"]
    assert stored == {"stored": True, "errors": []}
    assert malformed["stored"] is False and "64 lowercase hex" in malformed["errors"][0]["message"]
    listed = httpx.get(f"{server.url}/api/v1/runs", params={"experiment_id": experiment_id},
                       timeout=30).json()["items"]  # fmt: skip
    assert {r["run_id"] for r in listed} == {good}
    details = httpx.get(f"{server.url}/api/v1/runs/{good}", timeout=30).json()
    assert details["run_definition"]["environment"] == environment
    # now stored: the id alone is taken
    named = f"named_{uuid.uuid4().hex[:8]}"
    answer = _post(server.url, [_batch(named, experiment_id, environment_id=right,
                                       run_definition={"script": "train.py"})])  # fmt: skip
    assert answer.json()["results"] == [{"stored": True, "errors": []}]
    details = httpx.get(f"{server.url}/api/v1/runs/{named}", timeout=30).json()
    assert details["run_definition"] == {"script": "train.py", "environment": environment}


def test_an_older_clients_inline_environment_is_stored(server: ServerProcess) -> None:
    experiment_id = _experiment_id(server.url, "inline")
    environment = {"python": {"version": "3.10", "packages": {"numpy": "1.0"}}}
    run_id = f"inline_{uuid.uuid4().hex[:8]}"
    answer = _post(server.url, [_batch(run_id, experiment_id,
                                       run_definition={"environment": environment})])  # fmt: skip
    assert answer.json()["results"] == [{"stored": True, "errors": []}]
    details = httpx.get(f"{server.url}/api/v1/runs/{run_id}", timeout=30).json()
    assert details["run_definition"] == {"environment": environment}


def test_a_spooled_batch_holds_its_environment_whole(server: ServerProcess) -> None:
    """What the spool keeps (and ``runhistory sync`` replays, to any database) carries the
    environment with its id: a server that never saw it stores it."""
    experiment_id = _experiment_id(server.url, "spooled")
    run_id = f"spooled_{uuid.uuid4().hex[:8]}"
    environment = copy.deepcopy(shared_environment())
    create = RunCreate(run_id, experiment_id, "Running", time.time(),
                       run_definition={"environment": environment})  # fmt: skip
    changes = RunChanges(creates=[create])
    record = {"batch_id": uuid.uuid4().hex, "run_ids": [run_id],
              "changes": encode_changes(changes)}  # fmt: skip
    spooled = dumps_batch(record, False)
    assert orjson.loads(spooled)["changes"]["creates"][0]["environment_id"] == _environment_id()
    for _ in range(2):  # replayed: stored once
        answer = httpx.post(f"{server.url}/api/v1/changes/batches", timeout=60,
                            content=b'{"batches":[' + spooled + b"]}",
                            headers={"Content-Type": "application/json"})  # fmt: skip
        assert answer.json()["results"] == [{"stored": True, "errors": []}]
    details = httpx.get(f"{server.url}/api/v1/runs/{run_id}", timeout=30).json()
    assert details["run_definition"]["environment"] == environment


class _WithoutEnvironmentIds:
    """The real app as a server from before environments by id: its ``/server-info`` names
    only ``change-batches``; every body sent to ``/changes/batches`` is recorded."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if path.endswith("/server-info"):
            body = b'{"version": "0.0.9", "public_url": null, "features": ["change-batches"]}'
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if not path.endswith("/changes/batches"):
            await self.app(scope, receive, send)
            return
        parts: list[bytes] = []
        more = True
        while more:
            message = await receive()
            parts.append(message.get("body", b""))
            more = message.get("more_body", False)
        self.bodies.append(b"".join(parts))
        replayed = iter([{"type": "http.request", "body": self.bodies[-1], "more_body": False}])

        async def again() -> Any:
            return next(replayed, {"type": "http.disconnect"})

        await self.app(scope, again, send)


def test_a_server_without_environment_ids_gets_environments_inline(tmp_path: Path) -> None:
    from runhistory.server.app import create_app
    from runhistory.server.config import ServerSettings, open_services

    settings = ServerSettings(backend_store_uri=str(tmp_path / "older-ws"))
    older = _WithoutEnvironmentIds(create_app(settings, open_services(settings)))
    with serving(older) as http:  # type: ignore[arg-type]
        workspace = Workspace(tracking_uri=str(http.base_url).rstrip("/"))
        experiment = Experiment(workspace, "older")
        runs = [experiment.start_logging() for _ in range(3)]
        for run in runs:
            run.complete()
        creates = [c for body in older.bodies for c in _creates(body)]
        assert len(creates) == 3
        for create in creates:
            assert "environment_id" not in create
            assert create["run_definition"]["environment"] == shared_environment()
        for run in runs:
            assert Run.get(workspace, run.id).get_environment() == shared_environment()
