"""Auth: every API route refuses a request without, with a wrong, or with a revoked token."""

from __future__ import annotations

import re

import httpx
import pytest

from conftest import AuthApp
from runhistory.store.sql.tokens import hash_token

_PARAM = re.compile(r"\{(\w+)(:path)?\}")


def _api_requests(app: AuthApp) -> list[tuple[str, str]]:
    """(method, path) of every API route in the schema, parameters filled with placeholders."""
    spec = app.client.get("/api/v1/openapi.json").json()
    found = []
    for path, item in spec["paths"].items():
        if path.startswith("/api/v1/") and path != "/api/v1/session":  # signing in is open
            filled = _PARAM.sub(lambda m: "1" if m.group(1) == "version" else "x", path)
            found += [(method.upper(), filled) for method in item]
    assert len(found) > 30
    return found


def _refused(app: AuthApp, headers: dict[str, str]) -> list[str]:
    wrong = []
    for method, path in _api_requests(app):
        response = app.client.request(method, path, headers=headers, json={})
        body = response.json()
        if response.status_code != 401 or body.get("error") != "AuthenticationError":
            wrong.append(f"{method} {path} -> {response.status_code}")
    return wrong


def test_no_token_is_refused_on_every_route(auth_app: AuthApp) -> None:
    assert _refused(auth_app, {}) == []


def test_wrong_token_is_refused_on_every_route(auth_app: AuthApp) -> None:
    assert _refused(auth_app, {"Authorization": "Bearer rht_not-a-real-token"}) == []
    assert _refused(auth_app, {"Authorization": f"Basic {auth_app.token}"}) == []


def test_revoked_token_is_refused_on_every_route(auth_app: AuthApp) -> None:
    headers = {"Authorization": f"Bearer {auth_app.token}"}
    assert auth_app.client.get("/api/v1/experiments", headers=headers).status_code == 200
    auth_app.tokens.revoke("tester")
    assert _refused(auth_app, headers) == []


def test_refusal_says_how_to_get_a_token(auth_app: AuthApp) -> None:
    response = auth_app.client.get("/api/v1/runs")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "runhistory token create" in response.json()["message"]


def test_valid_token_opens_every_family(auth_app: AuthApp) -> None:
    headers = {"Authorization": f"Bearer {auth_app.token}"}
    for path in ("/api/v1/experiments", "/api/v1/runs", "/api/v1/models", "/api/v1/secrets"):
        assert auth_app.client.get(path, headers=headers).status_code == 200


def test_healthz_needs_no_token(auth_app: AuthApp) -> None:
    assert auth_app.client.get("/healthz").status_code == 200


def test_tokens_are_stored_hashed(auth_app: AuthApp) -> None:
    from sqlalchemy import select

    from runhistory.store.sql.schema import api_tokens

    with auth_app.tokens._engine.connect() as conn:
        stored = [tuple(row) for row in conn.execute(select(api_tokens))]
    assert auth_app.token not in repr(stored)
    assert any(hash_token(auth_app.token) in row for row in stored)


def test_secret_values_need_a_token(client: httpx.Client) -> None:
    assert client.put("/api/v1/secrets/db", json={"value": "S3CRET-VALUE"}).status_code == 204
    response = client.get("/api/v1/secrets/db")
    assert response.status_code == 403
    assert response.json()["error"] == "PermissionDeniedError"
    assert "--auth" in response.json()["message"]
    assert "S3CRET-VALUE" not in response.text


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer x y", "Token abc"])
def test_malformed_authorization_headers(auth_app: AuthApp, header: str) -> None:
    response = auth_app.client.get("/api/v1/runs", headers={"Authorization": header})
    assert response.status_code == 401
