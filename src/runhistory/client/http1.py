"""HTTP/1.1 framing for the spool sender's requests: a ``POST`` head out, an answer in.

The standard library's ``http.client`` parses every answer's headers with the ``email``
package and builds a request header by header; for the one small request a run written
behind costs, that was about a sixth of the client's CPU per run. This module writes a
request head in one piece and reads an answer (a status line, headers, a body framed by
``Content-Length``, by chunks or by the end of the connection) straight off the socket.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

_MAX_HEAD = 64 * 1024  # an answer's status line and headers, at most
_CHUNK = 64 * 1024
_FORBIDDEN = ("\r", "\n")


class MalformedAnswer(Exception):
    """The server's answer is not HTTP/1.x, or the connection ended in the middle of it."""


@dataclass(frozen=True)
class Answer:
    """A server's answer: its status, headers and whole body."""

    status: int
    headers: list[tuple[str, str]]
    content: bytes


def request_head(target: str, host: str, headers: dict[str, str], length: int) -> bytes:
    """The head of a ``POST`` of ``length`` bytes to ``target`` on ``host``.

    Raises:
        ValueError: a header name or value holds a line break (it would split the head).
    """
    return b"%s%d\r\n\r\n" % (head_before_length(target, host, headers), length)


def head_before_length(target: str, host: str, headers: dict[str, str]) -> bytes:
    """A ``POST`` head up to its ``Content-Length`` value (the same for every request with
    these headers: kept by the sender); the length's digits and ``\\r\\n\\r\\n`` end it.

    Raises:
        ValueError: a header name or value holds a line break (it would split the head).
    """
    lines = [f"POST {target} HTTP/1.1", f"Host: {host}"]
    for name, value in headers.items():
        if any(c in name or c in value for c in _FORBIDDEN):
            raise ValueError(f"header {name!r} holds a line break")
        lines.append(f"{name}: {value}")
    lines.append("Content-Length: ")
    return "\r\n".join(lines).encode("latin-1")


def read_answer(sock: socket.socket) -> tuple[Answer, bool]:
    """Read one answer off ``sock``; returns it and whether the connection stays open.

    Raises:
        MalformedAnswer: not an HTTP/1.x answer, or the connection ended before its end.
        OSError: the socket failed (a timeout included).
    """
    reader = _Reader(sock)
    while True:
        head = reader.head()
        status, version, headers = _parse_head(head)
        if status >= 200:
            break  # 1xx answers (100 Continue) come before the real one: skipped
    fields = {name.lower(): value for name, value in headers}
    keep_alive = _keep_alive(version, fields.get("connection", "").lower())
    if status in (204, 304):
        content = b""
    elif "chunked" in fields.get("transfer-encoding", "").lower():
        content = reader.chunked()
    elif "content-length" in fields:
        try:
            length = int(fields["content-length"])
        except ValueError:
            raise MalformedAnswer(f"bad Content-Length {fields['content-length']!r}") from None
        content = reader.exactly(length)
    else:
        content, keep_alive = reader.rest(), False
    return Answer(status, headers, content), keep_alive


def _parse_head(head: bytes) -> tuple[int, str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise MalformedAnswer(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers = []
    for line in lines[1:]:
        if line:
            name, sep, value = line.partition(":")
            if not sep:
                raise MalformedAnswer(f"not a header line: {line[:80]!r}")
            headers.append((name.strip(), value.strip()))
    return int(parts[1]), parts[0], headers


def _keep_alive(version: str, connection: str) -> bool:
    if version == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection


class _Reader:
    """Bytes off a socket, kept in a buffer between the parts of one answer."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def _more(self) -> bool:
        data = self._sock.recv(_CHUNK)
        self._buffer += data
        return bool(data)

    def head(self) -> bytes:
        """The status line and headers (the blank line that ends them taken off)."""
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end >= 0:
                head, self._buffer = self._buffer[:end], self._buffer[end + 4 :]
                return head
            if len(self._buffer) > _MAX_HEAD:
                raise MalformedAnswer(f"an answer's head is longer than {_MAX_HEAD} bytes")
            if not self._more():
                raise MalformedAnswer("the connection ended before an answer")

    def exactly(self, length: int) -> bytes:
        """The next ``length`` bytes."""
        while len(self._buffer) < length:
            if not self._more():
                raise MalformedAnswer("the connection ended in the middle of an answer")
        data, self._buffer = self._buffer[:length], self._buffer[length:]
        return data

    def line(self) -> bytes:
        """The next line, without its line break."""
        while True:
            end = self._buffer.find(b"\r\n")
            if end >= 0:
                line, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
                return line
            if len(self._buffer) > _MAX_HEAD or not self._more():
                raise MalformedAnswer("a chunked answer ended in the middle of a line")

    def chunked(self) -> bytes:
        """A body sent in chunks (trailers read and dropped)."""
        parts: list[bytes] = []
        while True:
            size_text = self.line().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise MalformedAnswer(f"bad chunk size {size_text[:20]!r}") from None
            if size == 0:
                while self.line():
                    pass
                return b"".join(parts)
            parts.append(self.exactly(size))
            if self.exactly(2) != b"\r\n":
                raise MalformedAnswer("a chunk does not end with a line break")

    def rest(self) -> bytes:
        """Everything until the server closes the connection."""
        while self._more():
            pass
        data, self._buffer = self._buffer, b""
        return data
