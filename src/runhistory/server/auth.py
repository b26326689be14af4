"""Authentication with ``--auth``: a bearer token, or the studio's session cookie.

Programs send ``Authorization: Bearer <token>``. The studio signs in once with a token (or a
one-time code from a sign-in link) and then holds an HttpOnly, ``SameSite=Strict`` session
cookie, which plain ``<img>`` and download links carry too. A state-changing request made with
the cookie must also send the ``X-CSRF-Token`` header equal to the ``rh_csrf`` cookie (a value
derived from the session that only a page of this origin can read), so another site cannot
make a signed-in browser change anything. A token of scope ``read`` may only read.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from runhistory.errors import AuthenticationError, PermissionDeniedError
from runhistory.server.config import Services
from runhistory.store.sql.sessions import JOB
from runhistory.store.sql.tokens import TokenInfo

SESSION_COOKIE = "rh_session"
CSRF_COOKIE = "rh_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
JOB_CREDENTIAL_PREFIX = "rhj_"


def csrf_value(session: str) -> str:
    """The anti-forgery value that goes with a session cookie."""
    return hashlib.sha256(b"runhistory-csrf:" + session.encode("utf-8")).hexdigest()[:32]


async def require_token(request: Request) -> None:
    """Refuse the request (401/403) unless it is authenticated and allowed (when auth is on);
    the token's name is left in ``request.state.token_name``."""
    found = await allowed_token(request, request.app.state.services)
    if found is not None:
        request.state.token_name = found.name
        request.state.token_id = found.token_id


async def allowed_token(request: Request, services: Services) -> TokenInfo | None:
    """The token that may make ``request`` (None when the server requires none): what both
    the routes (:func:`require_token`) and the lean batch route check.

    Raises:
        AuthenticationError: see :func:`authenticate` (401).
        PermissionDeniedError: a read-only token's change, or a cookie-authenticated change
            without the CSRF header (403).
    """
    if services.tokens is None:
        return None
    found = await authenticate(request, services)
    if found.read_only and request.method not in SAFE_METHODS:
        raise PermissionDeniedError(
            f"the token {found.name!r} is read-only (scope 'read'): it cannot "
            f"{request.method} {request.url.path}"
        )
    return found


async def authenticate(request: Request, services: Services) -> TokenInfo:
    """The token behind the request's bearer header or session cookie.

    Raises:
        AuthenticationError: no credentials, or unknown, revoked or expired ones.
        PermissionDeniedError: a cookie-authenticated change without the CSRF header.
    """
    assert services.tokens is not None
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("send the token as 'Authorization: Bearer <token>'")
        token = token.strip()
        if token.startswith(JOB_CREDENTIAL_PREFIX):  # a submitted job's own credential
            request.state.job_credential = token
            job = await run_in_threadpool(
                services.tokens.sessions().verify, token[len(JOB_CREDENTIAL_PREFIX) :], JOB
            )
            if job is None:
                raise AuthenticationError(
                    "the job credential is not valid: its job ended, it expired, or the token "
                    "it was made from was revoked"
                )
            return job
        found = await run_in_threadpool(services.tokens.verify, token)
        if found is None:
            raise AuthenticationError(
                "the token is not valid: it is unknown, was revoked or has expired"
            )
        return found
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        raise AuthenticationError(
            "this server requires a token: send 'Authorization: Bearer <token>' (set "
            "RUNHISTORY_TRACKING_TOKEN; create one with 'runhistory token create --name …'), "
            "or sign in to the studio"
        )
    if request.method not in SAFE_METHODS:
        check_csrf(request, session)
    found = await run_in_threadpool(services.tokens.sessions().verify, session)
    if found is None:
        raise AuthenticationError("the studio session has ended or expired: sign in again")
    await run_in_threadpool(services.tokens.note_use, found, time.time())
    return found


def check_csrf(request: Request, session: str) -> None:
    """Refuse a cookie-authenticated change whose CSRF header is missing or wrong."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode("utf-8"), csrf_value(session).encode("utf-8")):
        raise PermissionDeniedError(
            f"a change made with the studio's session cookie needs the {CSRF_HEADER} header "
            f"(the value of the {CSRF_COOKIE} cookie)"
        )
