"""Studio sign-in with --auth: session cookies, sign-in codes, CSRF, read-only and expired
tokens, last use, and ``submittedBy`` from the token."""

from __future__ import annotations

import time

import httpx
import pytest

from conftest import AuthApp
from runhistory.server.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE

SIGN_IN_HEADERS = {"X-Requested-With": "runhistory"}


def _sign_in(app: AuthApp, **body: str) -> httpx.Response:
    return app.client.post("/api/v1/session", json=body, headers=SIGN_IN_HEADERS)


def _experiment(app: AuthApp, headers: dict[str, str]) -> httpx.Response:
    return app.client.post("/api/v1/experiments", json={"name": "exp-1"}, headers=headers)


def test_session_status_before_and_after_sign_in(auth_app: AuthApp) -> None:
    before = auth_app.client.get("/api/v1/session").json()
    assert before == {"auth": True, "signed_in": False, "name": None, "scope": None}
    response = _sign_in(auth_app, token=auth_app.token)
    assert response.status_code == 200
    cookie = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookie if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie
    assert auth_app.token not in " ".join(cookie)
    after = auth_app.client.get("/api/v1/session").json()
    assert after["signed_in"] and after["name"] == "tester" and after["scope"] == "write"


def test_the_cookie_opens_the_api_and_sign_out_revokes_it(auth_app: AuthApp) -> None:
    assert auth_app.client.get("/api/v1/runs").status_code == 401
    _sign_in(auth_app, token=auth_app.token)
    session = auth_app.client.cookies[SESSION_COOKIE]
    assert auth_app.client.get("/api/v1/runs").status_code == 200
    csrf = {CSRF_HEADER: auth_app.client.cookies[CSRF_COOKIE]}
    assert auth_app.client.delete("/api/v1/session", headers=csrf).status_code == 204
    assert SESSION_COOKIE not in auth_app.client.cookies
    # The old cookie value, kept by someone, no longer works.
    response = auth_app.client.get(
        "/api/v1/runs", headers={"Cookie": f"{SESSION_COOKIE}={session}"}
    )
    assert response.status_code == 401 and "sign in again" in response.json()["message"]


def test_cookie_changes_need_the_csrf_header(auth_app: AuthApp) -> None:
    _sign_in(auth_app, token=auth_app.token)
    refused = _experiment(auth_app, {})
    assert refused.status_code == 403 and CSRF_HEADER in refused.json()["message"]
    wrong = _experiment(auth_app, {CSRF_HEADER: "0" * 32})
    assert wrong.status_code == 403
    ok = _experiment(auth_app, {CSRF_HEADER: auth_app.client.cookies[CSRF_COOKIE]})
    assert ok.is_success, ok.text


def test_sign_in_needs_the_custom_header_and_a_valid_token(auth_app: AuthApp) -> None:
    plain = auth_app.client.post("/api/v1/session", json={"token": auth_app.token})
    assert plain.status_code == 403 and SESSION_COOKIE not in auth_app.client.cookies
    assert _sign_in(auth_app, token="rht_wrong").status_code == 401
    assert _sign_in(auth_app).status_code == 400


def test_a_sign_in_code_works_once_and_never_carries_the_token(auth_app: AuthApp) -> None:
    info = auth_app.tokens.verify(auth_app.token)
    assert info is not None
    code = auth_app.tokens.sessions().new_login_code(info.token_id)
    assert auth_app.token not in code
    assert _sign_in(auth_app, code=code).status_code == 200
    auth_app.client.cookies.clear()
    assert _sign_in(auth_app, code=code).status_code == 401  # used up


def test_an_expired_sign_in_code_is_refused(auth_app: AuthApp) -> None:
    info = auth_app.tokens.verify(auth_app.token)
    assert info is not None
    code = auth_app.tokens.sessions().new_login_code(info.token_id, seconds=0.01)
    time.sleep(0.05)
    assert _sign_in(auth_app, code=code).status_code == 401


def test_revoking_the_token_ends_its_sessions(auth_app: AuthApp) -> None:
    _sign_in(auth_app, token=auth_app.token)
    assert auth_app.client.get("/api/v1/runs").status_code == 200
    auth_app.tokens.revoke("tester")
    assert auth_app.client.get("/api/v1/runs").status_code == 401


def test_a_read_only_token_browses_but_cannot_write(auth_app: AuthApp) -> None:
    token, _ = auth_app.tokens.create("viewer", scope="read")
    headers = {"Authorization": f"Bearer {token}"}
    assert auth_app.client.get("/api/v1/experiments", headers=headers).status_code == 200
    refused = _experiment(auth_app, headers)
    assert refused.status_code == 403 and "read-only" in refused.json()["message"]
    _sign_in(auth_app, token=token)  # the same through the studio's cookie
    csrf = {CSRF_HEADER: auth_app.client.cookies[CSRF_COOKIE]}
    assert _experiment(auth_app, csrf).status_code == 403


def test_an_expired_token_is_refused(auth_app: AuthApp) -> None:
    from sqlalchemy import update

    from runhistory.store.sql.schema import api_tokens

    token, info = auth_app.tokens.create("short", expires_in=3600)
    headers = {"Authorization": f"Bearer {token}"}
    assert auth_app.client.get("/api/v1/runs", headers=headers).status_code == 200
    assert info.expires_time is not None and info.expires_time > time.time() + 3500
    past = (
        update(api_tokens)
        .where(api_tokens.c.id == info.token_id)
        .values(expires_time=time.time() - 1)
    )
    with auth_app.tokens._engine.begin() as conn:  # an hour later
        conn.execute(past)
    response = auth_app.client.get("/api/v1/runs", headers=headers)
    assert response.status_code == 401 and "expired" in response.json()["message"]
    assert [t.active for t in auth_app.tokens.list() if t.name == "short"] == [False]


def test_last_use_is_recorded(auth_app: AuthApp) -> None:
    assert [t.last_used_time for t in auth_app.tokens.list()] == [None]
    started = time.time()
    headers = {"Authorization": f"Bearer {auth_app.token}"}
    assert auth_app.client.get("/api/v1/runs", headers=headers).status_code == 200
    (used,) = [t.last_used_time for t in auth_app.tokens.list()]
    assert used is not None and used >= started


@pytest.mark.parametrize("scope", ["admin", ""])
def test_unknown_scopes_are_refused(auth_app: AuthApp, scope: str) -> None:
    from runhistory.errors import ValidationError

    with pytest.raises(ValidationError, match="scope"):
        auth_app.tokens.create("x", scope=scope)


def test_runs_are_submitted_by_the_token_name(auth_app: AuthApp) -> None:
    headers = {"Authorization": f"Bearer {auth_app.token}"}
    experiment = _experiment(auth_app, headers).json()
    body = {"experiment_id": experiment["experiment_id"], "submitted_by": "someone-else"}
    run = auth_app.client.post("/api/v1/runs", json=body, headers=headers).json()
    assert run["submitted_by"] == "tester"


def test_without_auth_the_client_names_the_submitter(client: httpx.Client) -> None:
    experiment = client.post("/api/v1/experiments", json={"name": "exp-1"}).json()
    body = {"experiment_id": experiment["experiment_id"], "submitted_by": "alice"}
    assert client.post("/api/v1/runs", json=body).json()["submitted_by"] == "alice"
    assert client.get("/api/v1/session").json()["auth"] is False
