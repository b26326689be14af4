"""``POST /api/v1/changes/batches`` served straight from ASGI, ahead of FastAPI.

A process writing runs behind sends one small request per run it completes (B3 over HTTP).
Through FastAPI each such request passed five middleware layers, the router, the dependency
solver and the route's response handling before and after storing anything: about a third of
the server's CPU per run. The application (``app._Application``) hands that one route's
requests to :class:`LeanBatches` as soon as it gets them, before FastAPI's own ``__call__``
(which looks up the OpenTelemetry providers on every request) and the whole middleware stack
(FastAPI's own server-error, telemetry and body-size layers too); every other request goes on
untouched. LeanBatches does what the stack did for the route, through the very functions the
stack uses (so the two cannot drift apart):

- the bearer token or studio session: :func:`~runhistory.server.auth.allowed_token`, as
  :func:`~runhistory.server.auth.require_token` (401 with ``WWW-Authenticate``, 403 for a
  read-only token or a missing CSRF header);
- the JSON body limit: :func:`~runhistory.server.body.over_json_limit`, as
  :class:`~runhistory.server.body.BodyLimitMiddleware` (413), then the batch route's own
  limit and gzip request bodies: :func:`~runhistory.server.body.body_too_large` and
  :func:`~runhistory.server.body.decoded_body`, as :func:`~runhistory.server.body.read_body`;
- errors: :func:`~runhistory.server.errors.runhistory_error_answer` (a storage fault keeps
  only its reason and error id) and :func:`~runhistory.server.errors.unexpected_error_answer`
  (logged with an error id, answered 500), as the app's handler and middleware;
- the Prometheus metrics: the same meters, counted and timed under the route's template by
  ``answered`` as :class:`~runhistory.server.operations.MetricsMiddleware` does;
- a large answer goes out gzip-compressed to a client that accepts it, with the size and
  level of :class:`~runhistory.server.operations.CompressionMiddleware`.

One order differs on purpose: the credentials are checked before the body is read (the stack
checks the declared size first), so an unauthenticated client learns nothing of the limits.

The route stays declared on FastAPI's router too, so the OpenAPI document describes it.
"""

from __future__ import annotations

import gzip
import time
from typing import Any

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from runhistory.client.wire import dumps
from runhistory.errors import RunhistoryError
from runhistory.server.auth import allowed_token
from runhistory.server.body import (
    body_too_large,
    content_length,
    decoded_body,
    json_too_large,
    over_json_limit,
)
from runhistory.server.config import ServerSettings, Services
from runhistory.server.errors import runhistory_error_answer, unexpected_error_answer
from runhistory.server.operations import (
    GZIP_LEVEL,
    GZIP_MINIMUM,
    Meters,
    accepts_gzip,
    meters,
)
from runhistory.server.routes.batches import HINT, store_request

PATH = "/api/v1/changes/batches"
_JSON = (b"content-type", b"application/json")


def serves(scope: Scope) -> bool:
    """Whether a request is one :class:`LeanBatches` answers (``POST`` :data:`PATH`)."""
    return bool(scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST")


class LeanBatches:
    """The ASGI application of ``POST`` :data:`PATH` alone (see the module's description);
    ``scope["app"]`` is the application whose state it serves."""

    def __init__(self) -> None:
        self._meters: Meters | None = None  # in the process serving (a forked worker's)
        self._timed: Any = None  # the route's labelled latency and 200 counter, looked up once
        self._answered_ok: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._meters
        if found is None:
            found = self._meters = meters()
            self._timed = found.latency.labels("POST", PATH)
            self._answered_ok = found.requests.labels("POST", PATH, "200")
        started = time.perf_counter()
        in_progress = found.in_progress
        in_progress.inc()
        status = 500
        try:
            status = await _serve(scope, receive, send)
        finally:
            in_progress.dec()
            if status == 200:  # as Meters.answered does
                self._timed.observe(time.perf_counter() - started)
                self._answered_ok.inc()
            else:
                found.answered("POST", PATH, status, started)


async def _serve(scope: Scope, receive: Receive, send: Send) -> int:
    """Answer one request; returns the status answered."""
    app = scope["app"]
    settings: ServerSettings = app.state.settings
    services: Services = app.state.services
    try:
        user = await _user(scope, receive, services)
        raw = await _body(scope, receive, settings)
        body = dumps({"results": await store_request(app.state, settings, raw, user)})
    except RunhistoryError as exc:
        response = runhistory_error_answer(exc)
        await response(scope, receive, send)
        return response.status_code
    except Exception as exc:
        response = unexpected_error_answer(exc, "POST", PATH)
        await response(scope, receive, send)
        return response.status_code
    answer = [_JSON]
    if len(body) >= GZIP_MINIMUM and accepts_gzip(scope):
        body = gzip.compress(body, compresslevel=GZIP_LEVEL)
        answer += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
    answer.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": answer})
    await send({"type": "http.response.body", "body": body})
    return 200


async def _user(scope: Scope, receive: Receive, services: Services) -> str | None:
    """The token's name when the server requires one (else ``None``)."""
    if services.tokens is None:  # no Request to build
        return None
    found = await allowed_token(Request(scope, receive), services)
    return None if found is None else found.name


async def _body(scope: Scope, receive: Receive, settings: ServerSettings) -> bytes:
    """The whole, decompressed body within the server's limits."""
    json_limit, limit = settings.max_json_bytes, settings.max_metric_bytes
    declared = content_length(scope)
    over = over_json_limit(declared, json_limit)
    if over is not None:
        raise over
    if declared is not None and declared > limit:
        raise body_too_large(declared, limit, HINT)
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
            raise body_too_large(f"more than {limit}", limit, HINT)
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    data = parts[0] if len(parts) == 1 else b"".join(parts)
    encoding = None
    for name, value in scope["headers"]:
        if name == b"content-encoding":  # the first, as Request.headers.get finds it
            encoding = value.decode("latin-1")
            break
    return decoded_body(data, encoding, limit, HINT)
