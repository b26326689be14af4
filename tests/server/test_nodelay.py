"""Accepted connections have Nagle's algorithm off (``TCP_NODELAY``), so small responses on a
kept-alive connection are not held back by the client's delayed ACK. Checked on the sockets
uvicorn accepts from the listening socket the server makes (no timing), on asyncio's event
loop and on uvloop (which turns the option on for every accepted TCP connection itself)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from runhistory.server.runner import bind


async def _app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@contextmanager
def _uvicorn_on(sock: socket.socket, loop: str) -> Iterator[uvicorn.Server]:
    server = uvicorn.Server(uvicorn.Config(_app, log_level="warning", lifespan="off", loop=loop))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(20)


def _nodelay_of_accepted(sock: socket.socket, loop: str = "asyncio") -> list[int]:
    """TCP_NODELAY of each connection uvicorn accepted while a kept-alive client is open."""
    port = sock.getsockname()[1]
    with (
        _uvicorn_on(sock, loop) as server,
        httpx.Client(base_url=f"http://127.0.0.1:{port}") as http,
    ):
        assert http.get("/").status_code == 200
        transports = [c.transport for c in server.server_state.connections]  # type: ignore[attr-defined]
        return [
            t.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            for t in transports
        ]


LOOPS = ["asyncio", "uvloop"]  # uvloop: installed with the server extra


@pytest.mark.parametrize("loop", LOOPS)
def test_accepted_connections_have_nodelay(loop: str) -> None:
    flags = _nodelay_of_accepted(bind("127.0.0.1", 0), loop)
    assert flags and all(flags), f"TCP_NODELAY of accepted sockets: {flags}"


def test_a_socket_made_without_ipproto_tcp_would_not() -> None:
    """The check above can fail: a listening socket made as before (protocol 0, no option)
    gives accepted connections with Nagle's algorithm on, on asyncio's loop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    assert _nodelay_of_accepted(sock) == [0]


def test_the_listening_socket_is_tcp_with_nodelay() -> None:
    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        sock.close()
