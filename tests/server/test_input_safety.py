"""Unsafe file names and oversized bodies are refused over HTTP with 4xx and a clear message."""

from __future__ import annotations

import gzip
import io
import zipfile

import httpx
import orjson
import pytest


def _base(client: httpx.Client) -> str:
    return str(client.base_url).rstrip("/")


def _run(client: httpx.Client) -> str:
    experiment = client.post("/api/v1/experiments", json={"name": "safety"}).json()
    body = {"experiment_id": experiment["experiment_id"], "status": "Running"}
    return str(client.post("/api/v1/runs", json=body).json()["run_id"])


@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "a/..%2F..%2Fescape.txt",
        "%2Fetc%2Fpasswd",
        "%2E%2E",
        "a/%2E%2E/%2E%2E/b",
    ],
)
def test_unsafe_file_names_are_refused(client: httpx.Client, name: str) -> None:
    run_id = _run(client)
    for method in ("PUT", "GET"):
        url = httpx.URL(f"{_base(client)}/api/v1/runs/{run_id}/files/{name}")
        response = client.request(method, url, content=b"data")
        assert response.status_code == 400, (method, name, response.text)
        assert response.json()["error"] == "UnsafePathError"
    listed = client.get(f"/api/v1/runs/{run_id}/files").json()["items"]
    assert listed == []


def test_traversal_reaching_the_server_unnormalised_is_400(client: httpx.Client) -> None:
    run_id = _run(client)
    raw = f"/api/v1/runs/{run_id}/files/..%2F..%2Fsecrets.key"
    response = client.put(httpx.URL(f"{_base(client)}{raw}"), content=b"x")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "UnsafePathError"
    assert "../../secrets.key" in body["message"]


def test_snapshot_zip_with_escaping_member_is_refused(client: httpx.Client) -> None:
    run_id = _run(client)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../evil.py", "print('escaped')")
    response = client.post(f"/api/v1/runs/{run_id}/snapshot", content=buffer.getvalue())
    assert response.status_code == 400
    assert response.json()["error"] == "UnsafePathError"


def test_snapshot_that_is_not_a_zip_is_refused(client: httpx.Client) -> None:
    response = client.post(f"/api/v1/runs/{_run(client)}/snapshot", content=b"not a zip")
    assert response.status_code == 400
    assert "not a valid zip" in response.json()["message"]


def test_oversized_json_body_is_413(client: httpx.Client) -> None:
    tags = {f"k{i}": "v" * 1000 for i in range(100)}  # ~100 KB, over the 64 KiB limit
    response = client.patch(f"/api/v1/runs/{_run(client)}/tags", json={"set": tags})
    assert response.status_code == 413
    body = response.json()
    assert body["error"] == "ValidationError"
    assert "over the server's limit of 65536 bytes" in body["message"]


def test_oversized_chunked_json_body_is_413(client: httpx.Client) -> None:
    def chunks():  # no Content-Length: the server counts while reading
        for _ in range(100):
            yield b" " * 1024

    response = client.post(
        "/api/v1/experiments", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "limit" in response.json()["message"]


def _batch(run_id: str, points: int) -> dict[str, object]:
    columns = [list(range(points)), [1] * points, [1.0] * points, [None] * points, [1.0] * points]
    writes = [{"name": "x", "kind": "scalar", "columns": columns}]
    return {"batches": [{"run_id": run_id, "batch_id": "b1", "writes": writes}]}


def test_metric_request_with_too_many_points_is_413(client: httpx.Client) -> None:
    response = client.post("/api/v1/metrics/batches", json=_batch(_run(client), 10_001))
    assert response.status_code == 413
    assert "10001 points" in response.json()["message"]
    assert "fewer metric points" in response.json()["message"]


def test_gzip_bomb_is_413(client: httpx.Client) -> None:
    bomb = gzip.compress(b" " * (8 * 1024 * 1024))  # 8 MiB of spaces, over the 4 MiB limit
    response = client.post(
        "/api/v1/metrics/batches", content=bomb,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 413
    assert "decompressed" in response.json()["message"]


def test_gzip_metric_batch_is_accepted_once(client: httpx.Client) -> None:
    run_id = _run(client)
    body = gzip.compress(orjson.dumps(_batch(run_id, 100)))
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    first = client.post("/api/v1/metrics/batches", content=body, headers=headers).json()
    again = client.post("/api/v1/metrics/batches", content=body, headers=headers).json()
    assert first["results"][0]["stored"] is True
    assert again["results"][0]["stored"] is False  # same batch id: not stored twice
    info = client.get(f"/api/v1/runs/{run_id}/metrics/info").json()["items"]
    assert info[0]["count"] == 100


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"batches": 3}', "'batches' must be a list"),
    ],
)
def test_malformed_metric_bodies_are_400(client: httpx.Client, body: bytes, fragment: str) -> None:
    response = client.post("/api/v1/metrics/batches", content=body)
    assert response.status_code == 400
    assert fragment in response.json()["message"]


def test_a_malformed_batch_is_refused_alone(client: httpx.Client) -> None:
    good = _batch(_run(client), 3)["batches"][0]
    body = {"batches": [{"run_id": "r", "writes": [{"name": "x"}]}, good]}
    response = client.post("/api/v1/metrics/batches", json=body)
    assert response.status_code == 200
    bad, stored = response.json()["results"]
    assert bad["stored"] is False and "'columns'" in bad["errors"][0]["message"]
    assert stored == {"stored": True, "errors": []}


def test_bad_point_types_are_400(client: httpx.Client) -> None:
    run_id = _run(client)
    batch = _batch(run_id, 3)
    batch["batches"][0]["writes"][0]["columns"][0][1] = "two"  # type: ignore[index]
    single = {"writes": batch["batches"][0]["writes"]}  # type: ignore[index]
    response = client.post(f"/api/v1/runs/{run_id}/metrics", json=single)
    assert response.status_code == 400
    assert "steps hold values of type ['str']" in response.json()["message"]
    [result] = client.post("/api/v1/metrics/batches", json=batch).json()["results"]
    assert "steps hold values of type ['str']" in result["errors"][0]["message"]


def test_unknown_route_is_a_json_404(client: httpx.Client) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"] == "NotFoundError"


def test_invalid_request_fields_are_400_with_the_field(client: httpx.Client) -> None:
    response = client.post("/api/v1/runs", json={"status": "Running"})
    assert response.status_code == 400
    assert "experiment_id" in response.json()["message"]
