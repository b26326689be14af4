"""``run list --last N`` against a runhistory server, read over a plain socket.

Importing the SDK and the HTTP client library costs a command more than the listing itself
(even the standard library's ``http.client`` brings the ``email`` package and ``ssl``).
:func:`http_runs` asks the server what the normal path asks (``GET /api/v1/experiments`` with
the same parameters, then ``GET /api/v1/runs`` — one page per experiment, one run more than
shown) as HTTP/1.1 requests over one keep-alive connection, and builds the same run records
from the answers. It reads only the plainest answers: a status line, headers and a body of
``Content-Length`` bytes.

It answers only when everything goes right. Anything else returns ``None`` before a line is
printed, and the command takes the normal path, whose messages (and retries) stay the only
ones: an ``https`` server or a proxy in the environment, a server that cannot be reached, any
answer but ``200 OK`` (a refused token, a limit beyond the server's, a server error), an
answer it does not read (chunked, say) or that is not the JSON expected, an experiment name
that does not resolve to one experiment. The token is sent in the ``Authorization`` header
only, never printed.
"""

from __future__ import annotations

import heapq
import itertools
import os
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runhistory.tracking.markers import may_hold_marker

if TYPE_CHECKING:
    import socket

    from runhistory.tracking.records import ExperimentInfo, RunInfo

API_PREFIX = "/api/v1"  # as the remote backend's client
CONNECT_TIMEOUT_S = 10.0  # as the remote backend's client: connect, then wait for answers
READ_TIMEOUT_S = 300.0
EXPERIMENT_PAGE = 10_000  # the remote backend's page of an experiment listing
MAX_HEAD_BYTES = 64 * 1024  # status line and headers of an answer
_PROXY_VARIABLES = frozenset({"http_proxy", "all_proxy"})


class _Unanswered(Exception):
    """The server did not answer as the lean path needs: take the normal path."""


def http_runs(
    tracking_uri: str,
    token: str | None,
    experiment_name: str | None,
    status: str | None,
    include_children: bool,
    created_after: float | None,
    created_before: float | None,
    page_size: int,
) -> list[RunInfo] | None:
    """The ``page_size`` newest runs ``run list`` shows (of the experiment named, else of every
    active experiment), as the server gives them; ``None`` when the normal path must answer
    (see the module's description)."""
    client = _Client.of(tracking_uri, token)
    if client is None:
        return None
    try:
        from runhistory.cli.lean_listing import pick_experiments

        experiments = pick_experiments(client, experiment_name)
        if experiments is None:
            return None
        filters = _run_filters(status, include_children, created_after, created_before)
        pages = [client.runs(e.experiment_id, filters, page_size) for e in experiments]
    except _Unanswered:
        return None
    finally:
        client.close()
    if len(pages) == 1:
        return pages[0][:page_size]
    merged = heapq.merge(
        *pages, key=lambda r: (r.created_time, r.number, r.run_id), reverse=True
    )  # the order of the normal path's merge, ties included
    return list(itertools.islice(merged, page_size))


def _run_filters(
    status: str | None,
    include_children: bool,
    created_after: float | None,
    created_before: float | None,
) -> list[tuple[str, str]]:
    """The query parameters of the remote backend's run listing, for these filters."""
    params = [("include_children", str(include_children).lower())]
    if status is not None:
        params.append(("status", status))
    if created_after is not None:
        params.append(("created_after", repr(float(created_after))))
    if created_before is not None:
        params.append(("created_before", repr(float(created_before))))
    params.append(("with_definition", "false"))
    return params


class _Client:
    """GET requests to one server over one keep-alive HTTP/1.1 connection."""

    def __init__(
        self, host: str, port: int, netloc: str, prefix: str, headers: dict[str, str]
    ) -> None:
        self._address = (host, port)
        self._prefix = prefix
        lines = [f"Host: {netloc}", *(f"{k}: {v}" for k, v in headers.items())]
        self._head = "".join(f"{line}\r\n" for line in lines) + "\r\n"
        self._sock: socket.socket | None = None
        self._unread = b""

    @classmethod
    def of(cls, tracking_uri: str, token: str | None) -> _Client | None:
        """A client of the server at ``tracking_uri``, or ``None`` when the lean path does not
        serve it (not plain ``http``, a proxy configured, a URL it cannot read)."""
        if any(k.lower() in _PROXY_VARIABLES and v for k, v in os.environ.items()):
            return None  # the normal client goes through the proxy
        try:
            parts = urllib.parse.urlsplit(tracking_uri.rstrip("/"))
            port = parts.port
        except ValueError:
            return None
        if parts.scheme.lower() != "http" or not parts.hostname or parts.username:
            return None
        if parts.query or parts.fragment or not (parts.netloc + parts.path).isascii():
            return None
        from runhistory import __version__

        headers = {"Accept": "*/*", "User-Agent": f"runhistory/{__version__}"}
        if token:
            if not token.isascii() or "\r" in token or "\n" in token:
                return None  # the normal client says what is wrong with it
            headers["Authorization"] = f"Bearer {token}"
        return cls(parts.hostname, port or 80, parts.netloc, parts.path + API_PREFIX, headers)

    def list_experiments(self, view_type: str) -> list[ExperimentInfo]:
        """Every experiment of ``view_type``, asked for as the remote backend asks."""
        from runhistory.tracking.records import ExperimentInfo

        params: list[tuple[str, Any]] = [("view_type", view_type), ("with_run_count", "false")]
        items = self._all_pages("/experiments", params)
        return [_record(ExperimentInfo, item) for item in items]

    def runs(self, experiment_id: str, filters: list[tuple[str, str]], size: int) -> list[RunInfo]:
        """The first page (``size`` runs) of an experiment's listing."""
        from runhistory.tracking.records import RunInfo

        page = self._get("/runs", [("experiment_id", experiment_id), *filters, ("limit", size)])
        return [_record(RunInfo, item) for item in _items(page)]

    def _all_pages(self, path: str, params: list[tuple[str, Any]]) -> list[Any]:
        items: list[Any] = []
        token: str | None = None
        offset = 0
        while True:
            position = [("page_token", token)] if token else [("offset", offset)]
            page = self._get(path, [*params, ("limit", EXPERIMENT_PAGE), *position])
            items.extend(_items(page))
            token = page.get("next_page_token")
            offset = page.get("next_offset") or 0
            if not token and not offset:
                return items

    def _get(self, path: str, params: Sequence[tuple[str, Any]]) -> dict[str, Any]:
        """The JSON object answered to ``GET path?params``.

        Raises:
            _Unanswered: no connection, no ``200 OK`` read, or no JSON object.
        """
        target = f"{self._prefix}{path}?{urllib.parse.urlencode(params)}"
        try:
            sock = self._connection()
            sock.sendall(f"GET {target} HTTP/1.1\r\n{self._head}".encode("ascii"))
            body = self._answer(sock)
        except (OSError, UnicodeError) as exc:
            self.close()
            raise _Unanswered(type(exc).__name__) from None
        try:
            found = _loads(body)
        except Exception as exc:  # not the JSON of a runhistory server
            raise _Unanswered(type(exc).__name__) from None
        if not isinstance(found, dict):
            raise _Unanswered("not a JSON object")
        return found

    def _answer(self, sock: socket.socket) -> bytes:
        """The body of a ``200 OK`` answer with a ``Content-Length``, read from ``sock``."""
        data = bytearray(self._unread)
        while b"\r\n\r\n" not in data:
            if len(data) > MAX_HEAD_BYTES:
                raise _Unanswered("headers too long")
            data += _received(sock)
        head, _, rest = bytes(data).partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, _, status = lines[0].partition(" ")
        if version not in ("HTTP/1.1", "HTTP/1.0") or status.partition(" ")[0] != "200":
            raise _Unanswered(lines[0][:80])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            key = name.strip().lower()
            if not colon or (key in headers and key == "content-length"):
                raise _Unanswered("a header not understood")
            headers[key] = value.strip()
        length = headers.get("content-length", "")
        if "transfer-encoding" in headers or not length.isdigit():
            raise _Unanswered("no Content-Length")
        body = bytearray(rest)
        while len(body) < int(length):
            body += _received(sock)
        self._unread = bytes(body[int(length) :])
        if version == "HTTP/1.0" or headers.get("connection", "").lower() == "close":
            self.close()
        return bytes(body[: int(length)])

    def _connection(self) -> socket.socket:
        if self._sock is None:
            import socket

            sock = socket.create_connection(self._address, timeout=CONNECT_TIMEOUT_S)
            sock.settimeout(READ_TIMEOUT_S)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock, self._unread = sock, b""
        return self._sock

    def close(self) -> None:
        """Close the connection (if open)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _received(sock: socket.socket) -> bytes:
    chunk = sock.recv(256 * 1024)
    if not chunk:
        raise _Unanswered("the server closed the connection")
    return chunk


def _loads(body: bytes) -> Any:
    """An answer's JSON as the remote backend reads it: only an answer that may hold the
    wire's markers or escaped keys (see :mod:`runhistory.client.wire`) needs its decoder,
    whose import (the tracking records' module) costs more than the listing."""
    if may_hold_marker(body):
        from runhistory.client.wire import loads

        return loads(body)
    import orjson

    return orjson.loads(body)


def _items(page: dict[str, Any]) -> list[Any]:
    items = page.get("items")
    if not isinstance(items, list):
        raise _Unanswered("no items")
    return items


def _record(cls: Any, data: Any) -> Any:
    """A record from its JSON object, as the remote backend builds it (unknown keys ignored)."""
    if not isinstance(data, dict):
        raise _Unanswered(f"not a {cls.__name__}")
    names = cls.__dataclass_fields__
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError as exc:  # a field missing
        raise _Unanswered(str(exc)) from None
