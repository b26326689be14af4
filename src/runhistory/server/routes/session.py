"""The studio's sign-in: ``/api/v1/session`` turns a token (or a sign-in code) into a cookie.

These routes need no token themselves. ``POST`` must carry the ``X-Requested-With`` header
(which a page of another site cannot send without this server's consent), so a foreign page
cannot sign a browser in either.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from runhistory.errors import AuthenticationError, PermissionDeniedError, ValidationError
from runhistory.server.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    authenticate,
    check_csrf,
    csrf_value,
)
from runhistory.server.body import WireRoute
from runhistory.server.config import Services
from runhistory.server.responses import JsonResponse
from runhistory.store.sql.sessions import SESSION_SECONDS
from runhistory.store.sql.tokens import TokenInfo

router = APIRouter(route_class=WireRoute, prefix="/session", tags=["session"])


class SignIn(BaseModel):
    """Sign in with a token, or with the one-time code of a sign-in link."""

    model_config = ConfigDict(extra="forbid")
    token: str | None = None
    code: str | None = None


def _describe(info: TokenInfo | None, auth: bool) -> dict[str, Any]:
    if info is None:
        return {"auth": auth, "signed_in": not auth, "name": None, "scope": None}
    return {"auth": auth, "signed_in": True, "name": info.name, "scope": info.scope,
            "expires_time": info.expires_time}  # fmt: skip


@router.get("")
async def current_session(request: Request) -> Any:
    """Who the request is signed in as (``auth: false``: this server needs no sign-in)."""
    services: Services = request.app.state.services
    if services.tokens is None:
        return JsonResponse(_describe(None, False))
    try:
        return JsonResponse(_describe(await authenticate(request, services), True))
    except (AuthenticationError, PermissionDeniedError):
        return JsonResponse(_describe(None, True))


@router.post("")
async def sign_in(body: SignIn, request: Request) -> Any:
    """Check the token (or code) and set the session cookies."""
    services = _auth_services(request)
    if request.headers.get("x-requested-with", "").lower() != "runhistory":
        raise PermissionDeniedError("signing in needs the header 'X-Requested-With: runhistory'")
    if bool(body.token) == bool(body.code):
        raise ValidationError("send either 'token' or 'code'")
    assert services.tokens is not None
    sessions = services.tokens.sessions()
    if body.token:
        found = await run_in_threadpool(services.tokens.verify, body.token.strip())
    else:
        found = await run_in_threadpool(sessions.redeem_login_code, str(body.code).strip())
    if found is None:
        raise AuthenticationError(
            "the token is not valid: unknown, revoked or expired" if body.token else
            "the sign-in link is not valid: already used, expired, or its token was revoked"
        )  # fmt: skip
    session = await run_in_threadpool(sessions.start, found.token_id)
    response = JsonResponse(_describe(found, True))
    _set_cookies(response, request, session)
    return response


@router.delete("", status_code=204)
async def sign_out(request: Request) -> Response:
    """End the session of the cookie (it no longer works, even if kept) and clear it."""
    services = _auth_services(request)
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        check_csrf(request, session)
        assert services.tokens is not None
        await run_in_threadpool(services.tokens.sessions().end, session)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="strict")
    return response


def _auth_services(request: Request) -> Services:
    services: Services = request.app.state.services
    if services.tokens is None:
        raise ValidationError("this server runs without --auth: there is nothing to sign in to")
    return services


def _set_cookies(response: Response, request: Request, session: str) -> None:
    secure = request.url.scheme == "https"
    common: dict[str, Any] = {"max_age": int(SESSION_SECONDS), "path": "/", "secure": secure,
                              "samesite": "strict"}  # fmt: skip
    response.set_cookie(SESSION_COOKIE, session, httponly=True, **common)
    response.set_cookie(CSRF_COOKIE, csrf_value(session), httponly=False, **common)
