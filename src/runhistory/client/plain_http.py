"""The spooled batches' requests over one kept-alive connection of their own.

The background sender makes one ``POST`` per group of spooled batches; a process writing runs
behind makes one per run it completes (B3 over HTTP: one request a run). Through httpx such a
request cost about 1 ms of the client's CPU (its URL and header models, the connection pool,
the cookie jar), a third of what the client spends on a run; the standard library's
``http.client`` cost a fraction of that, and writing the request and reading the answer
straight off one kept-alive socket (:mod:`runhistory.client.http1`) a fraction again. It
serves plain ``http://`` servers reached without a proxy; any other server (``https``, a proxy
named in the environment) keeps httpx with its TLS and proxy settings (see
``HttpClient.post_bytes``).

A request on a kept-alive connection the server has closed meanwhile (it closes idle ones) is
sent once more on a new connection: the batches carry their ids, so a batch the server did
store is skipped the second time. The token travels in the ``Authorization`` header only.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
import time
import urllib.parse

from runhistory.client.http1 import Answer, MalformedAnswer, head_before_length, read_answer
from runhistory.errors import StorageError

__all__ = ["Answer", "PlainPoster"]

_PROXY_VARIABLES = frozenset({"http_proxy", "all_proxy"})  # those httpx uses for http://
_TIMEOUT_SLACK = 1.0  # seconds a wait may outlast the time left rather than change the socket
# Linux: the socket blocks and the kernel enforces the timeouts (SO_RCVTIMEO, SO_SNDTIMEO). A
# socket with a Python timeout polls before every send and receive: two system calls more a
# request, and the interpreter's lock released and taken twice more.
_KERNEL_TIMEOUTS = sys.platform.startswith("linux")


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
        default_port = self._port == 80
        host = f"[{self._host}]" if ":" in self._host else self._host  # an IPv6 address
        self._host_header = host if default_port else f"{host}:{self._port}"
        self._sock: socket.socket | None = None
        # The head of a request up to its length, per path and header set: the sender posts
        # to one or two paths with one of two header sets, once per run written behind.
        self._heads: dict[tuple[str, tuple[tuple[str, str], ...]], bytes] = {}

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

    def post(
        self, path: str, body: bytes, headers: dict[str, str], timeout: float | None = None
    ) -> Answer:
        """Send ``body`` and return the answer, whatever its status (``timeout``: the most
        seconds the whole exchange may take, else this poster's timeouts).

        Raises:
            StorageError: the server could not be reached, or closed the connection without
                answering (send it again later).
        """
        key = (path, tuple(headers.items()))
        head = self._heads.get(key)
        if head is None:
            head = head_before_length(self._prefix + path, self._host_header,
                                      {**self._headers, **headers})  # fmt: skip
            if len(self._heads) < 16:
                self._heads[key] = head
        deadline = None if timeout is None else time.monotonic() + timeout
        for _ in range(2):
            reused = self._sock is not None
            try:
                return self._exchange(head, body, deadline)
            except (OSError, MalformedAnswer) as exc:
                self.close()
                if reused and (deadline is None or time.monotonic() < deadline):
                    continue  # a kept-alive connection the server closed: once more, anew
                raise StorageError(
                    f"cannot reach {self.base_url}: {exc!r}", url=self.base_url
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, head: bytes, body: bytes, deadline: float | None) -> Answer:
        left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
        sock = self._sock
        if sock is None:
            connect = self._connect_timeout if left is None else min(self._connect_timeout, left)
            sock = socket.create_connection((self._host, self._port), connect)
            _set_timeout(sock, self._timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
        # Each wait on the socket gets the time left (the exchange is a few of them), unless
        # that is within a second of the poster's own timeout: a flush with the default time
        # left then costs no two system calls to change the socket's timeout and back.
        shorter = left is not None and left < self._timeout - _TIMEOUT_SLACK
        if shorter and left is not None:
            _set_timeout(sock, left)
        try:
            sock.sendall(b"%s%d\r\n\r\n%s" % (head, len(body), body))
            answer, keep_alive = read_answer(sock)
        except BlockingIOError as exc:  # a kernel timeout: said as Python's would say it
            raise TimeoutError(f"timed out ({exc.strerror})") from exc
        finally:
            if shorter and self._sock is sock:
                _set_timeout(sock, self._timeout)
        if not keep_alive:
            self.close()
        return answer

    def close(self) -> None:
        """Close the connection (the next request opens another)."""
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


def _set_timeout(sock: socket.socket, seconds: float) -> None:
    """The most ``seconds`` each send and receive on ``sock`` may wait (see
    :data:`_KERNEL_TIMEOUTS`)."""
    if not _KERNEL_TIMEOUTS:
        sock.settimeout(seconds)
        return
    sock.settimeout(None)  # blocking: the kernel's timeouts apply (0 would mean none)
    whole = int(seconds)
    limit = struct.pack("@ll", whole, max(int((seconds - whole) * 1e6), 0 if whole else 1))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
