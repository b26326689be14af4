"""``POST /api/v1/changes/batches`` served straight from ASGI, ahead of FastAPI.

A process writing runs behind sends one small request per run it completes (B3 over HTTP).
Through FastAPI each such request passed five middleware layers, the router, the dependency
solver and the route's response handling before and after storing anything: about a third of
the server's CPU per run. This ASGI middleware, the outermost of the application's, answers
that one route itself and hands every other request on untouched. It does what the stack did
for the route, in the same words:

- the bearer token or studio session is checked as :func:`~runhistory.server.auth.require_token`
  checks it (401 with ``WWW-Authenticate``, 403 for a read-only token or a missing CSRF
  header);
- the JSON body limit (413, as :class:`~runhistory.server.body.BodyLimitMiddleware` answers
  it), then the batch route's own limits and gzip request bodies (:func:`read_body`);
- errors are answered with the same JSON error bodies (a storage fault keeps only its reason
  and error id); an unexpected exception is logged with an error id and answered 500;
- the request is counted and timed in the Prometheus metrics under the route's template;
- a large answer goes out gzip-compressed to a client that accepts it.

The route stays declared on FastAPI's router too, so the OpenAPI document describes it.
"""

from __future__ import annotations

import gzip
import time

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from runhistory.client.wire import dumps
from runhistory.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RunhistoryError,
    ValidationError,
)
from runhistory.server.auth import SAFE_METHODS, authenticate
from runhistory.server.body import gunzip, json_too_large, too_large
from runhistory.server.config import ServerSettings, Services
from runhistory.server.errors import error_response, public_error, unexpected_error
from runhistory.server.operations import meters
from runhistory.server.routes.batches import HINT, store_request

PATH = "/api/v1/changes/batches"
_JSON = (b"content-type", b"application/json")
_GZIP_MINIMUM = 1024  # as the compression middleware: smaller answers go out as they are


class LeanBatches:
    """ASGI middleware serving ``POST`` :data:`PATH` itself (see the module's description).

    Args:
        app: the rest of the application's middleware stack.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._meters = meters()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        in_progress = self._meters.in_progress
        in_progress.inc()
        status = 500
        try:
            status = await _serve(scope, receive, send)
        finally:
            in_progress.dec()
            self._meters.latency.labels("POST", PATH).observe(time.perf_counter() - started)
            self._meters.requests.labels("POST", PATH, str(status)).inc()


async def _serve(scope: Scope, receive: Receive, send: Send) -> int:
    """Answer one request; returns the status answered."""
    app = scope["app"]
    settings: ServerSettings = app.state.settings
    services: Services = app.state.services
    headers: dict[str, str] | None = None
    try:
        user = await _user(scope, receive, services)
        raw = await _body(scope, receive, settings)
        body = dumps({"results": await store_request(app.state, settings, raw, user)})
    except RunhistoryError as exc:
        if isinstance(exc, AuthenticationError):
            headers = {"WWW-Authenticate": "Bearer"}
        response = error_response(public_error(exc), headers)
        await response(scope, receive, send)
        return response.status_code
    except Exception as exc:
        response = error_response(unexpected_error(exc, "POST", PATH))
        await response(scope, receive, send)
        return response.status_code
    answer = [_JSON]
    if len(body) >= _GZIP_MINIMUM and _accepts_gzip(scope):
        body = gzip.compress(body, compresslevel=1)
        answer += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
    answer.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": answer})
    await send({"type": "http.response.body", "body": body})
    return 200


async def _user(scope: Scope, receive: Receive, services: Services) -> str | None:
    """The token's name when the server requires one (else ``None``); refuses as
    :func:`~runhistory.server.auth.require_token` does."""
    if services.tokens is None:
        return None
    request = Request(scope, receive)
    found = await authenticate(request, services)
    if found.read_only and request.method not in SAFE_METHODS:
        raise PermissionDeniedError(
            f"the token {found.name!r} is read-only (scope 'read'): it cannot "
            f"{request.method} {request.url.path}"
        )
    return found.name


async def _body(scope: Scope, receive: Receive, settings: ServerSettings) -> bytes:
    """The whole, decompressed body within the server's limits."""
    json_limit, limit = settings.max_json_bytes, settings.max_metric_bytes
    declared = encoding = None
    for name, value in scope["headers"]:
        if name == b"content-length":
            declared = value
        elif name == b"content-encoding":
            encoding = value
    if declared is not None and declared.isdigit():
        if int(declared) > json_limit:
            raise json_too_large(int(declared), json_limit)
        if int(declared) > limit:
            raise too_large("the request body", declared.decode(), limit, HINT)
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away: what came is read as it is
        chunk = message.get("body", b"")
        size += len(chunk)
        if declared is None and size > json_limit:
            raise json_too_large(f"more than {json_limit}", json_limit)
        if size > limit:
            raise too_large("the request body", f"more than {limit}", limit, HINT)
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    data = parts[0] if len(parts) == 1 else b"".join(parts)
    return _decoded(data, encoding, limit)


def _decoded(data: bytes, encoding: bytes | None, limit: int) -> bytes:
    name = (encoding or b"identity").decode("latin-1").lower()
    if name == "gzip":
        return gunzip(data, limit, HINT)
    if name not in ("identity", ""):
        raise ValidationError(f"unsupported Content-Encoding {name!r}: use gzip or none")
    return data


def _accepts_gzip(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return b"gzip" in value
    return False
