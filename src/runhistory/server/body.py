"""Request bodies: size limits, gzip, raw JSON, and streaming uploads to temporary files."""

from __future__ import annotations

import json
import os
import tempfile
import zlib
from collections.abc import Callable, Coroutine
from typing import Any

import anyio.from_thread
import orjson
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runhistory.client.wire import decode, loads
from runhistory.errors import ValidationError
from runhistory.server.errors import PayloadTooLargeError, error_response

_STREAMED_SUFFIXES = ("/snapshot", "/models/upload")
_STREAMED_PUTS = ("/files/", "/mlflow-artifacts/artifacts/", "/mlflow-artifacts/mpu/parts/")


def too_large(what: str, size: int | str, limit: int, hint: str) -> PayloadTooLargeError:
    """The 413 error for a body over its limit."""
    return PayloadTooLargeError(
        f"{what} of {size} bytes is over the server's limit of {limit} bytes; {hint}",
        limit=limit,
    )


async def read_body(request: Request, limit: int, hint: str) -> bytes:
    """The whole (decompressed) body, refusing more than ``limit`` bytes with 413."""
    declared = content_length(request.scope)
    if declared is not None and declared > limit:
        raise body_too_large(declared, limit, hint)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise body_too_large(f"more than {limit}", limit, hint)
        parts.append(chunk)
    data, encoding = b"".join(parts), request.headers.get("content-encoding")
    if encoding and len(data) > INLINE_BYTES:  # a large gzip body: inflated off the event loop
        return await run_in_threadpool(decoded_body, data, encoding, limit, hint)
    return decoded_body(data, encoding, limit, hint)


INLINE_BYTES = 256 * 1024  # a compressed body up to this size is inflated on the event loop
WRITE_BYTES = 1024 * 1024  # an upload is written to its temporary file this much at a time


def body_too_large(size: int | str, limit: int, hint: str) -> PayloadTooLargeError:
    """The 413 error for a request body over a route's own limit."""
    return too_large("the request body", size, limit, hint)


def decoded_body(data: bytes, encoding: str | None, limit: int, hint: str) -> bytes:
    """A request body as sent with ``Content-Encoding: encoding``, decompressed (gzip) within
    ``limit`` bytes.

    Raises:
        ValidationError: an encoding other than gzip or none, or a body that is not gzip.
        PayloadTooLargeError: more than ``limit`` bytes once decompressed.
    """
    name = (encoding or "identity").lower()
    if name == "gzip":
        return gunzip(data, limit, hint)
    if name not in ("identity", ""):
        raise ValidationError(f"unsupported Content-Encoding {name!r}: use gzip or none")
    return data


def gunzip(data: bytes, limit: int, hint: str) -> bytes:
    """``data`` gunzipped, refusing more than ``limit`` bytes with 413."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ValidationError(f"the body is not valid gzip: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise too_large("the decompressed request body", f"more than {limit}", limit, hint)
    return out


async def read_json(request: Request, limit: int, hint: str) -> Any:
    """The parsed JSON body."""
    data = await read_body(request, limit, hint)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"the request body is not valid JSON: {exc}") from None


async def body_to_temp_file(request: Request, suffix: str = "") -> str:
    """Stream the body to a temporary file (never held in memory beyond ``WRITE_BYTES``);
    returns its path. The writes happen in the thread pool: a slow disk never holds up the
    worker's event loop (nor, through it, its other requests and its liveness beat)."""
    handle, path = tempfile.mkstemp(prefix="runhistory-upload-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            pending: list[bytes] = []
            size = 0
            async for chunk in request.stream():
                pending.append(chunk)
                size += len(chunk)
                if size >= WRITE_BYTES:
                    await run_in_threadpool(out.writelines, pending)
                    pending, size = [], 0
            await run_in_threadpool(out.writelines, pending)
    except BaseException:
        os.unlink(path)
        raise
    return path


class BlockingBody:
    """The request body as a blocking binary stream, for code that runs in a worker thread
    (``run_in_threadpool``): each ``read`` waits for the next chunks of the body on the event
    loop, so the body streams through without a temporary file and never sits whole in memory.
    """

    def __init__(self, request: Request) -> None:
        self._chunks = request.stream()
        self._buffer = bytearray()
        self._done = False

    async def _next(self) -> bytes | None:
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            return None

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is left for a negative size); ``b""`` at the end."""
        while not self._done and (size < 0 or len(self._buffer) < size):
            chunk = anyio.from_thread.run(self._next)
            if chunk is None:
                self._done = True
            else:
                self._buffer += chunk
        take = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        data = bytes(self._buffer[:take])
        del self._buffer[:take]
        return data


class BodyLimitMiddleware:
    """Refuses JSON request bodies over ``limit`` bytes with 413 before any route reads them.

    File uploads (``PUT …/files/…``, snapshots, model uploads) stream to disk and are exempt;
    metric batches check their own, larger limit.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _exempt(scope):
            await self.app(scope, receive, send)
            return
        declared = content_length(scope)
        over = over_json_limit(declared, self.limit)
        if over is not None:
            await error_response(over)(scope, receive, send)
            return
        if declared is None and scope.get("method") in ("POST", "PUT", "PATCH"):
            body = await _read_all(receive, self.limit)  # chunked: count before the route reads
            if body is None:
                too_big = json_too_large(f"more than {self.limit}", self.limit)
                await error_response(too_big)(scope, receive, send)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)


def _exempt(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    method = scope.get("method", "GET")
    if method == "PUT" and any(part in path for part in _STREAMED_PUTS):
        return True
    if method == "POST" and path.endswith(("/metrics", "/metrics/batches")):
        return True
    return path.endswith(_STREAMED_SUFFIXES)


def content_length(scope: Scope) -> int | None:
    """The request's declared ``Content-Length`` (None if absent or not a number)."""
    for key, value in scope.get("headers", ()):
        if key == b"content-length" and value.isdigit():
            return int(value)
    return None


def over_json_limit(declared: int | None, limit: int) -> PayloadTooLargeError | None:
    """The 413 error for a body declared larger than the JSON limit (None within it): what
    :class:`BodyLimitMiddleware` and the lean batch route answer before reading."""
    if declared is not None and declared > limit:
        return json_too_large(declared, limit)
    return None


def json_too_large(size: int | str, limit: int) -> PayloadTooLargeError:
    """The 413 error for a JSON body over the server's limit."""
    return too_large("the JSON body", size, limit, "send less data per request")


async def _read_all(receive: Receive, limit: int) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts)
        parts.append(message.get("body", b""))
        size += len(parts[-1])
        if size > limit:
            return None
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def wrapped() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return wrapped


class WireRequest(Request):
    """A request whose JSON body is read with the wire format's markers and key escaping
    (:mod:`runhistory.client.wire`), as the remote client writes it."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = loads(body)
            except orjson.JSONDecodeError:  # NaN and Infinity literals, as Python's json writes
                self._json = decode(json.loads(body))
        return self._json


class WireRoute(APIRoute):
    """The route class of the REST API: bodies are read as :class:`WireRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wire_handler(request: Request) -> Response:
            return await handler(WireRequest(request.scope, request.receive))

        return wire_handler
