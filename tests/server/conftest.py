"""Fixtures of the server tests: the ASGI app in-process, and real server subprocesses."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from runhistory.server.app import create_app
from runhistory.server.config import ServerSettings, open_services
from runhistory.store.sql.tokens import SqlTokenStore
from support.services import ServerProcess, free_port, server_on


@contextmanager
def serving(app: FastAPI) -> Iterator[httpx.Client]:
    """Serve ``app`` with uvicorn on a loopback port in a thread; yield a client of it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the in-thread server did not start")
        time.sleep(0.01)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            http.app = app  # type: ignore[attr-defined]
            yield http
    finally:
        server.should_exit = True
        thread.join(20)


@dataclass
class AuthApp:
    """An app started with ``--auth``, a client of it and the token store behind it."""

    client: httpx.Client
    tokens: SqlTokenStore
    token: str


def _settings(tmp_path: Path, auth: bool, **limits: int) -> ServerSettings:
    return ServerSettings(backend_store_uri=str(tmp_path / "server-ws"), auth=auth, **limits)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    """A client of a server without auth on a fresh SQLite workspace (small JSON limit)."""
    settings = _settings(tmp_path, False, max_json_bytes=64 * 1024, max_metric_points=10_000,
                         max_metric_bytes=4 * 1024 * 1024)  # fmt: skip
    with serving(create_app(settings, open_services(settings))) as http:
        yield http


@pytest.fixture
def auth_app(tmp_path: Path) -> Iterator[AuthApp]:
    """A server with auth on a fresh SQLite workspace, and one valid token."""
    settings = _settings(tmp_path, True)
    services = open_services(settings)
    assert services.tokens is not None
    token, _ = services.tokens.create("tester")
    with serving(create_app(settings, services)) as http:
        yield AuthApp(http, services.tokens, token)


@pytest.fixture
def pg_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A real ``runhistory server`` subprocess on a fresh PostgreSQL database."""
    with server_on("postgresql", tmp_path, "rh_srv", home="server-home") as server:
        yield server
