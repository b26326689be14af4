"""The HTTP side of the remote backend: requests, retries, and errors turned back into types.

Every error response of the server carries ``{"error": <class name>, "message", "fields"}``;
:func:`raise_for_error` raises that :class:`~runhistory.errors.RunhistoryError` subclass, so
code using the remote backend catches exactly what it catches in the embedded mode.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from runhistory import __version__
from runhistory.client.plain_http import PlainPoster
from runhistory.client.wire import dumps, loads
from runhistory.errors import (
    AuthenticationError,
    RunhistoryError,
    StorageError,
    error_class_by_name,
)
from runhistory.retry import Backoff, retry

API_PREFIX = "/api/v1"
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_RETRY_STATUS = frozenset({502, 503, 504})
_ANNOUNCE_OVER = 1.0  # a retry budget longer than this is announced on stderr when used
_REACHED: set[str] = set()  # servers that answered this process (kept across forks)


def raise_for_error(response: httpx.Response) -> None:
    """Raise the runhistory error a failed response describes (nothing for 2xx)."""
    if response.status_code < 400:
        return
    try:
        body = loads(response.read())
    except Exception:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        cls = error_class_by_name(body["error"])
        fields = body.get("fields")
        error = cls(str(body.get("message", "")), **(fields if isinstance(fields, dict) else {}))
    elif response.status_code == 401:
        error = AuthenticationError(f"{response.request.url} refused the credentials (401)")
    else:
        text = response.text[:300] if response.content else ""
        kind = StorageError if response.status_code >= 500 else RunhistoryError
        error = kind(f"{response.request.method} {response.request.url} failed with "
                     f"HTTP {response.status_code}: {text}")  # fmt: skip
    error.fields.setdefault("http_status", response.status_code)
    raise error


class HttpClient:
    """Requests to one runhistory server, with the token and retries.

    Args:
        base_url: the server (``http://host:port``); ``/api/v1`` is added to paths.
        token: bearer token, if the server requires one.
        retry_seconds: how long to keep retrying when a server that answered this process
            before cannot be reached (it restarts: the client waits for it).
        connect_seconds: how long to keep retrying the first contact with a server that
            has not answered this process yet; a host name that does not resolve fails at
            once (nothing there to wait for).
        timeout: seconds to wait for a response.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        retry_seconds: float = 30.0,
        timeout: float = 300.0,
        connect_seconds: float = 2.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"User-Agent": f"runhistory/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.retry_seconds = retry_seconds
        self.connect_seconds = connect_seconds
        self._client = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
        )
        self._poster = PlainPoster.of(self.base_url + API_PREFIX, headers, timeout, 10.0)

    def post_bytes(
        self, path: str, content: bytes, headers: dict[str, str], timeout: float | None = None
    ) -> Any:
        """``POST`` a prepared body once (no retry) and return the parsed JSON answer: the
        spool sender's requests, over a kept-alive ``http.client`` connection when the
        server is plain ``http`` without a proxy (see :mod:`runhistory.client.plain_http`).

        Raises:
            StorageError: the server could not be reached (send it again later).
            RunhistoryError: the error the server answered with.

        ``timeout``: the most seconds the request may take (else the client's own).
        """
        if self._poster is None:
            extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
            try:
                response = self._client.post(path, content=content, headers=headers, **extra)
            except httpx.TransportError as exc:
                raise StorageError(f"cannot reach {self.base_url}: {exc!r}") from exc
        else:
            answer = self._poster.post(path, content, headers, timeout)
            if answer.status < 400:
                return loads(answer.content)
            url = self._poster.base_url + path
            response = httpx.Response(answer.status, headers=answer.headers,
                                      content=answer.content,
                                      request=httpx.Request("POST", url))  # fmt: skip
        raise_for_error(response)
        return loads(response.content)

    def call(self, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        """Send a request with a JSON body (if any) and return the parsed JSON answer."""
        if json is not None:
            kwargs["content"] = dumps(json)
            kwargs.setdefault("headers", {})["Content-Type"] = "application/json"
        response = self.send(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return loads(response.content)

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request (retrying while the server is unreachable) and check its status."""
        response = self._with_retries(lambda: self._client.request(method, path, **kwargs), method)
        raise_for_error(response)
        return response

    def upload(self, method: str, path: str, open_body: Any, **kwargs: Any) -> Any:
        """Send a streamed body made afresh by ``open_body()`` on each attempt; parse the JSON."""

        def attempt() -> httpx.Response:
            return self._client.request(method, path, content=open_body(), **kwargs)

        response = self._with_retries(attempt, method)
        raise_for_error(response)
        return loads(response.content) if response.content else None

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """A streamed response whose status was checked; close it by leaving the block."""
        request = self._client.build_request(method, path, **kwargs)
        response = self._with_retries(lambda: self._client.send(request, stream=True), method)
        try:
            if response.status_code >= 400:
                response.read()
                raise_for_error(response)
            yield response
        finally:
            response.close()

    def _with_retries(self, attempt: Any, method: str) -> httpx.Response:
        """``attempt()`` until it answers, retrying (with backoff) an unreachable server and,
        for idempotent methods, 502/503/504 (honouring ``Retry-After``). The last such answer
        is returned when the time is up.

        A server that answered this process before is waited for up to ``retry_seconds``
        (it restarts); one never reached yet only ``connect_seconds``, and not at all when
        its host name does not resolve. A wait that may last over a second is announced on stderr.
        """
        first_contact = self.base_url not in _REACHED
        budget = (
            min(self.connect_seconds, self.retry_seconds) if first_contact else self.retry_seconds
        )

        def once() -> httpx.Response:
            try:
                response: httpx.Response = attempt()
            except httpx.TransportError as exc:
                safe = _safe_to_retry(exc, method) and not (first_contact and _unresolved(exc))
                raise _Unreachable(exc, safe) from exc
            if response.status_code in _RETRY_STATUS:
                if method in _IDEMPOTENT:
                    raise _Unavailable(response)
            else:
                _REACHED.add(self.base_url)
            return response

        waited = _Announcer(self.base_url, budget, first_contact)
        backoff = Backoff(first=0.1, cap=2.0, seconds=budget)
        try:
            return retry(once, _retryable, backoff, sleep=waited.sleep)
        except _Unavailable as exc:
            return exc.response
        except _Unreachable as exc:
            tried = "not reached before" if first_contact else "reached before"
            if waited.total >= 1:
                tried += f"; gave up after {waited.total:.0f} s"
            raise StorageError(
                f"cannot reach the runhistory server at {self.base_url}: "
                f"{describe_failure(exc.cause)} ({tried})",
                url=self.base_url,
                cause=repr(exc.cause),
            ) from exc.cause

    def close(self) -> None:
        """Close the connections."""
        self._client.close()
        if self._poster is not None:
            self._poster.close()


class _Unreachable(Exception):
    """A request that did not get an answer (``safe``: it may be sent again)."""

    def __init__(self, cause: httpx.TransportError, safe: bool) -> None:
        super().__init__(str(cause))
        self.cause, self.safe = cause, safe


class _Unavailable(Exception):
    """An answer saying the server is unavailable for now (502/503/504)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = _retry_after(response)
        response.read()  # the error body stays readable once the connection is released
        response.close()


class _Announcer:
    """The pauses of one request's retries; when the budget is longer than
    ``_ANNOUNCE_OVER``, the first prints one line on stderr saying what is awaited and for
    how long."""

    def __init__(self, url: str, budget: float, first_contact: bool) -> None:
        self.url, self.budget, self.first_contact = url, budget, first_contact
        self.total = 0.0
        self.cause = ""
        self._announced = False

    def sleep(self, pause: float) -> None:
        if not self._announced and self.budget > _ANNOUNCE_OVER:
            self._announced = True
            exc = sys.exc_info()[1]
            why = describe_failure(exc.cause) if isinstance(exc, _Unreachable) else str(exc)
            setting = "CONNECT" if self.first_contact else "RETRY"
            print(f"runhistory: the server at {self.url} is not reachable: {why}; retrying "
                  f"for up to {self.budget:g} s (RUNHISTORY_HTTP_{setting}_SECONDS)",
                  file=sys.stderr, flush=True)  # fmt: skip
        time.sleep(pause)
        self.total += pause


def describe_failure(exc: BaseException) -> str:
    """What went wrong reaching a server, in words: connection refused, host name not
    resolved, timed out, closed without an answer (the library's own text otherwise)."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 8:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    url = _request_url(exc)
    where = f"{url.host}:{url.port}" if url is not None and url.port else None
    for cause in chain:
        if isinstance(cause, socket.gaierror):
            host = url.host if url is not None else "the host"
            return f"host name {host!r} not resolved ({cause.strerror or cause})"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused" + (f" (nothing listens on {where})" if where else "")
    if isinstance(exc, httpx.ConnectTimeout):
        return "timed out connecting" + (f" to {where}" if where else "")
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out waiting for an answer ({exc.__class__.__name__})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the connection closed without an answer ({exc})"
    return repr(exc)


def _request_url(exc: BaseException) -> httpx.URL | None:
    try:
        return exc.request.url if isinstance(exc, httpx.RequestError) else None
    except RuntimeError:  # an error raised without its request
        return None


def _unresolved(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, _Unavailable) or (isinstance(exc, _Unreachable) and exc.safe)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None  # absent, or an HTTP date (not sent by runhistory servers)


def _safe_to_retry(exc: httpx.TransportError, method: str) -> bool:
    # A refused connection never reached the server: any request can be sent again.
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return True
    return method in _IDEMPOTENT
