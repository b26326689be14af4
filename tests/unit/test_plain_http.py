"""Which servers the spool sender reaches over ``http.client``, and which keep httpx."""

from __future__ import annotations

import re
import socket
import time

import pytest

from runhistory.client.http import HttpClient
from runhistory.client.plain_http import PlainPoster
from runhistory.errors import StorageError


def test_a_plain_http_server_without_a_proxy_gets_the_plain_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    poster = PlainPoster.of("http://127.0.0.1:5000/api/v1", {}, 300.0, 10.0)
    assert poster is not None
    assert poster.base_url == "http://127.0.0.1:5000/api/v1"


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
def test_a_proxy_in_the_environment_keeps_httpx(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "http://proxy.example:3128")
    assert PlainPoster.of("http://127.0.0.1:5000/api/v1", {}, 300.0, 10.0) is None


def test_https_keeps_httpx() -> None:
    assert PlainPoster.of("https://tracking.example/api/v1", {}, 300.0, 10.0) is None
    client = HttpClient("https://tracking.example")
    try:
        assert client._poster is None
    finally:
        client.close()


def test_an_unreachable_server_is_a_storage_error() -> None:
    poster = PlainPoster("http://127.0.0.1:9/api/v1", {}, 5.0, 2.0)  # discard port: refused
    with pytest.raises(StorageError, match=re.escape("cannot reach http://127.0.0.1:9/api/v1")):
        poster.post("/changes/batches", b"{}", {"Content-Type": "application/json"})


def test_a_server_that_never_answers_times_out_as_a_storage_error() -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # takes the connection, never answers
    port = listener.getsockname()[1]
    poster = PlainPoster(f"http://127.0.0.1:{port}/api/v1", {}, 0.3, 2.0)
    started = time.monotonic()
    try:
        with pytest.raises(StorageError, match="timed out"):
            poster.post("/changes/batches", b"{}", {"Content-Type": "application/json"})
    finally:
        poster.close()
        listener.close()
    assert time.monotonic() - started < 5.0  # the answer was waited for 0.3 s, not forever


def test_a_deadline_shorter_than_the_timeout_bounds_the_wait() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    poster = PlainPoster(f"http://127.0.0.1:{port}/api/v1", {}, 60.0, 2.0)
    started = time.monotonic()
    try:
        with pytest.raises(StorageError, match="timed out"):
            poster.post("/changes/batches", b"{}", {}, timeout=0.3)
    finally:
        poster.close()
        listener.close()
    assert time.monotonic() - started < 5.0
