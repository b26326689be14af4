"""The spooled batches' requests over one kept-alive ``http.client`` connection.

The background sender makes one ``POST`` per group of spooled batches; a process writing runs
behind makes one per run it completes (B3 over HTTP: one request a run). Through httpx such a
request cost about 1 ms of the client's CPU (its URL and header models, the connection pool,
the cookie jar), a third of what the client spends on a run; the standard library's
``http.client`` on one kept-alive connection costs a fraction of that. It serves plain
``http://`` servers reached without a proxy; any other server (``https``, a proxy named in the
environment) keeps httpx with its TLS and proxy settings (see ``HttpClient.post_bytes``).

A request on a kept-alive connection the server has closed meanwhile (it closes idle ones) is
sent once more on a new connection: the batches carry their ids, so a batch the server did
store is skipped the second time. The token travels in the ``Authorization`` header only.
"""

from __future__ import annotations

import http.client
import os
import urllib.parse
from dataclasses import dataclass

from runhistory.errors import StorageError

_PROXY_VARIABLES = frozenset({"http_proxy", "all_proxy"})  # those httpx uses for http://


@dataclass(frozen=True)
class Answer:
    """A server's answer: its status, headers and whole body."""

    status: int
    headers: list[tuple[str, str]]
    content: bytes


class PlainPoster:
    """``POST`` requests to one plain-HTTP server over one kept-alive connection (not
    thread-safe: the sender's thread alone uses it).

    Args:
        base_url: ``http://host:port/prefix``; request paths are added to it.
        headers: sent with every request (user agent, token).
        timeout: seconds to wait for an answer; ``connect_timeout``: for the connection.
    """

    def __init__(
        self, base_url: str, headers: dict[str, str], timeout: float, connect_timeout: float
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.base_url = base_url
        self._host = parts.hostname or "localhost"
        self._port = parts.port or 80
        self._prefix = parts.path.rstrip("/")
        self._headers = dict(headers)
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._conn: http.client.HTTPConnection | None = None

    @classmethod
    def of(
        cls, base_url: str, headers: dict[str, str], timeout: float, connect_timeout: float
    ) -> PlainPoster | None:
        """A poster for ``base_url``, or ``None`` when httpx must send (not plain ``http``, or
        a proxy in the environment)."""
        if urllib.parse.urlsplit(base_url).scheme != "http":
            return None
        if any(k.lower() in _PROXY_VARIABLES and v for k, v in os.environ.items()):
            return None
        return cls(base_url, headers, timeout, connect_timeout)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        """Send ``body`` and return the answer, whatever its status.

        Raises:
            StorageError: the server could not be reached, or closed the connection without
                answering (send it again later).
        """
        wanted = {**self._headers, **headers}
        for _ in range(2):
            reused = self._conn is not None
            try:
                return self._exchange(path, body, wanted)
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if reused:
                    continue  # a kept-alive connection the server closed: once more, anew
                raise StorageError(
                    f"cannot reach {self.base_url}: {exc!r}", url=self.base_url
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        conn = self._conn
        if conn is None:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._connect_timeout)
            conn.connect()
            assert conn.sock is not None
            conn.sock.settimeout(self._timeout)
            self._conn = conn
        conn.request("POST", self._prefix + path, body=body, headers=headers)
        response = conn.getresponse()
        content = response.read()
        if response.will_close:
            self.close()
        return Answer(response.status, response.getheaders(), content)

    def close(self) -> None:
        """Close the connection (the next request opens another)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
