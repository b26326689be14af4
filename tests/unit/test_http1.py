"""The spool sender's HTTP/1.1 framing: the request head it writes, the answers it reads."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from runhistory.client.http1 import MalformedAnswer, read_answer, request_head


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected pair of sockets: the client's end, the server's end."""
    client, server = socket.socketpair()
    client.settimeout(5.0)
    try:
        yield client, server
    finally:
        client.close()
        server.close()


def test_the_request_head_names_the_target_host_length_and_headers() -> None:
    head = request_head("/api/v1/changes/batches", "127.0.0.1:5000",
                        {"Content-Type": "application/json"}, 42)  # fmt: skip
    assert head == (b"POST /api/v1/changes/batches HTTP/1.1\r\nHost: 127.0.0.1:5000\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 42\r\n\r\n")  # fmt: skip


def test_a_header_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        request_head("/x", "h", {"Authorization": "Bearer a\r\nX-Evil: 1"}, 0)


def test_an_answer_with_a_content_length_keeps_the_connection(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    client, server = pair
    server.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                   b"content-length: 11\r\n\r\n{\"a\": true}")  # fmt: skip
    answer, keep_alive = read_answer(client)
    assert (answer.status, answer.content, keep_alive) == (200, b'{"a": true}', True)
    assert ("content-type", "application/json") in answer.headers


def test_an_answer_arriving_in_pieces_is_read_whole(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    client, server = pair
    for piece in (b"HTTP/1.1 400 Bad", b" Request\r\nContent-Le", b"ngth: 4\r\n\r", b"\n{}", b"{}"):
        server.sendall(piece)
    answer, _ = read_answer(client)
    assert (answer.status, answer.content) == (400, b"{}{}")


def test_a_chunked_answer_is_joined(pair: tuple[socket.socket, socket.socket]) -> None:
    client, server = pair
    server.sendall(b"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: x\r\n\r\n")  # fmt: skip
    answer, keep_alive = read_answer(client)
    assert (answer.status, answer.content, keep_alive) == (500, b"abcde", True)


def test_connection_close_and_an_answer_until_the_end(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    client, server = pair
    server.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
    assert read_answer(client)[1] is False
    server.sendall(b"HTTP/1.0 200 OK\r\n\r\nto the end")
    server.shutdown(socket.SHUT_WR)
    answer, keep_alive = read_answer(client)
    assert (answer.content, keep_alive) == (b"to the end", False)


def test_a_continue_before_the_answer_is_skipped(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    client, server = pair
    server.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    answer, _ = read_answer(client)
    assert (answer.status, answer.content) == (204, b"")


@pytest.mark.parametrize("sent", [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                                  b"SSH-2.0-OpenSSH\r\n\r\n"])  # fmt: skip
def test_a_cut_or_foreign_answer_is_malformed(
    pair: tuple[socket.socket, socket.socket], sent: bytes
) -> None:
    client, server = pair
    server.sendall(sent)
    server.shutdown(socket.SHUT_WR)
    with pytest.raises(MalformedAnswer):
        read_answer(client)
