"""``POST /changes/batches`` answered ahead of FastAPI: the same checks and answers as the
rest of the API (limits, encodings, errors, auth, metrics)."""

from __future__ import annotations

import gzip
import time
from typing import Any

import httpx
import orjson
import pytest

from conftest import AuthApp
from runhistory.server.routes import batches

PATH = "/api/v1/changes/batches"


def _batch(run_id: str, experiment_id: str) -> dict[str, Any]:
    create = {"run_id": run_id, "experiment_id": experiment_id, "status": "Running",
              "created_time": time.time()}  # fmt: skip
    return {"batch_id": f"b-{run_id}", "changes": {"creates": [create]}}


def _experiment(client: httpx.Client, name: str, headers: dict[str, str] | None = None) -> str:
    answer = client.post("/api/v1/experiments", json={"name": name}, headers=headers)
    return str(answer.json()["experiment_id"])


def test_a_gzipped_batch_is_stored_and_answered(client: httpx.Client) -> None:
    experiment = _experiment(client, "lean")
    body = gzip.compress(orjson.dumps({"batches": [_batch("lean-1", experiment)]}))
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    answer = client.post(PATH, content=body, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"results": [{"stored": True, "errors": []}]}
    assert client.get("/api/v1/runs/lean-1").json()["run_id"] == "lean-1"


def test_a_body_over_the_json_limit_is_413_as_elsewhere(client: httpx.Client) -> None:
    big = b'{"batches": [' + b" " * (70 * 1024) + b"]}"
    lean = client.post(PATH, content=big, headers={"Content-Type": "application/json"})
    other = client.post("/api/v1/experiments", content=big,
                        headers={"Content-Type": "application/json"})  # fmt: skip
    assert lean.status_code == other.status_code == 413
    assert lean.json() == other.json()

    def chunks() -> Any:  # no Content-Length: counted as it comes
        yield big

    streamed = client.post(PATH, content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert streamed.json()["error"] == "ValidationError"


@pytest.mark.parametrize(
    ("body", "headers", "says"),
    [
        (b"{not json", {}, "not valid JSON"),
        (b'{"batches": 3}', {}, "'batches' must be a list"),
        (b"[]", {}, "JSON object"),
        (b"{}", {"Content-Encoding": "br"}, "unsupported Content-Encoding"),
        (b"not gzip", {"Content-Encoding": "gzip"}, "not valid gzip"),
    ],
)
def test_unreadable_requests_are_400_validation_errors(
    client: httpx.Client, body: bytes, headers: dict[str, str], says: str
) -> None:
    answer = client.post(PATH, content=body, headers={"Content-Type": "application/json",
                                                      **headers})  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["error"] == "ValidationError"
    assert says in answer.json()["message"]


def test_an_unexpected_failure_is_500_with_an_error_id(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any) -> Any:
        raise RuntimeError("a secret detail")

    monkeypatch.setattr("runhistory.server.lean_batches.store_request", broken)
    answer = client.post(PATH, json={"batches": []})
    assert answer.status_code == 500
    assert "error id" in answer.json()["message"]
    assert "secret" not in answer.text
    assert batches.HINT  # the route module still declares the route (OpenAPI)


def test_requests_are_counted_under_the_route(client: httpx.Client) -> None:
    for _ in range(3):
        assert client.post(PATH, json={"batches": []}).status_code == 200
    client.post(PATH, content=b"{", headers={"Content-Type": "application/json"})
    text = client.get("/metrics").text
    ok = f'method="POST",route="{PATH}",status="200"'
    refused = f'method="POST",route="{PATH}",status="400"'
    assert any(ok in line and not line.endswith(" 0.0") for line in text.splitlines())
    assert any(refused in line for line in text.splitlines())


def test_with_auth_runs_are_submitted_by_the_token_and_cookies_need_csrf(
    auth_app: AuthApp,
) -> None:
    headers = {"Authorization": f"Bearer {auth_app.token}"}
    experiment = _experiment(auth_app.client, "lean-auth", headers)
    answer = auth_app.client.post(PATH, json={"batches": [_batch("auth-1", experiment)]},
                                  headers=headers)  # fmt: skip
    assert answer.json()["results"] == [{"stored": True, "errors": []}]
    run = auth_app.client.get("/api/v1/runs/auth-1", headers=headers).json()
    assert run["submitted_by"] == "tester"
    refused = auth_app.client.post(PATH, json={"batches": []})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    signed_in = auth_app.client.post("/api/v1/session", json={"token": auth_app.token},
                                     headers={"X-Requested-With": "runhistory"})  # fmt: skip
    assert signed_in.status_code == 200
    no_csrf = auth_app.client.post(PATH, json={"batches": []})
    assert no_csrf.status_code == 403
    assert no_csrf.json()["error"] == "PermissionDeniedError"
