"""The OpenAPI schema is served, valid, and covers every route of the API."""

from __future__ import annotations

import httpx
from openapi_spec_validator import validate
from starlette.routing import Route

EXPECTED = {
    ("post", "/api/v1/experiments"), ("get", "/api/v1/experiments"),
    ("get", "/api/v1/experiments/{experiment_id}"), ("delete", "/api/v1/runs/{run_id}"),
    ("post", "/api/v1/runs"), ("get", "/api/v1/runs"), ("post", "/api/v1/runs/{run_id}/status"),
    ("post", "/api/v1/runs/{run_id}/metrics"), ("post", "/api/v1/metrics/batches"),
    ("post", "/api/v1/metrics/series"), ("put", "/api/v1/runs/{run_id}/files/{name}"),
    ("get", "/api/v1/runs/{run_id}/files/{name}"), ("post", "/api/v1/models"),
    ("get", "/api/v1/secrets"), ("put", "/api/v1/secrets/{name}"),
}  # fmt: skip


def test_openapi_schema_is_served_and_valid(client: httpx.Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    operations = {(m, p) for p, item in spec["paths"].items() for m in item}
    assert operations >= EXPECTED


def test_every_api_route_is_in_the_schema(client: httpx.Client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    app_routes = {
        (method.lower(), route.path.replace(":path", ""))
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, Route) and route.path.startswith("/api/v1/")
        and route.include_in_schema
        for method in (route.methods or ()) if method != "HEAD"
    }  # fmt: skip
    documented = {(m, p) for p, item in spec["paths"].items() for m in item}
    assert app_routes <= documented


def test_metric_batch_body_is_documented(client: httpx.Client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    body = spec["paths"]["/api/v1/metrics/batches"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["required"] == ["batches"]


def test_healthz_answers(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_every_operation_documents_its_answers_and_errors(client: httpx.Client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    error = spec["components"]["schemas"]["ErrorBody"]
    assert sorted(error["required"]) == ["error", "fields", "message"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)  # invalid requests are 400
            default = responses["default"]["content"]["application/json"]["schema"]
            assert default == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
            for status, answer in responses.items():
                for media, content in answer.get("content", {}).items():
                    if media == "application/json":
                        assert content["schema"] != {"type": "string"}, (method, path, status)
