"""Bearer-token authentication: with ``--auth`` every API route needs a valid token."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from runhistory.errors import AuthenticationError
from runhistory.server.config import Services


async def require_token(request: Request) -> None:
    """Refuse the request with 401 unless it carries an active token (when auth is on)."""
    services: Services = request.app.state.services
    if services.tokens is None:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError(
            "this server requires a token: send 'Authorization: Bearer <token>' (set "
            "RUNHISTORY_TRACKING_TOKEN; create one with 'runhistory token create --name …')"
        )
    found = await run_in_threadpool(services.tokens.verify, token.strip())
    if found is None:
        raise AuthenticationError("the token is not valid: it is unknown or was revoked")
    request.state.token_name = found.name
