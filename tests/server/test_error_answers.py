"""What the server answers when something fails: 4xx for the client's mistakes, 503 only for
real unavailability, never SQL text or the server's own paths, and a usable connection."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from runhistory.errors import StorageError
from runhistory.server.app import create_app
from runhistory.server.config import ServerSettings, open_services
from server.conftest import serving
from support.filesystems import fill, read_only_view, tiny_disk, workspace_with_a_run
from support.services import POSTGRES_URL, ServerProcess, start_server

_SQL_WORDS = ("SELECT", "INSERT", "UPDATE", "[SQL", "sqlalche.me", "Traceback")


def _assert_clean(body: dict[str, object], *secrets: str) -> None:
    text = str(body)
    for word in (*_SQL_WORDS, *secrets):
        assert word not in text, (word, body)


def _running_run(http: httpx.Client, name: str = "answers") -> str:
    experiment = http.post("/api/v1/experiments", json={"name": name}).json()
    body = {"experiment_id": experiment["experiment_id"], "status": "Running"}
    return str(http.post("/api/v1/runs", json=body).json()["run_id"])


def test_values_postgresql_refuses_are_400_without_sql(pg_server: ServerProcess) -> None:
    with httpx.Client(base_url=pg_server.url, timeout=30) as http:
        run_id = _running_run(http)
        response = http.patch(f"/api/v1/runs/{run_id}/tags", json={"set": {"k": "a\u0000b"}})
        assert response.status_code == 400, response.text
        _assert_clean(response.json())


def test_a_database_gone_is_503_without_sql_or_credentials(tmp_path: Path) -> None:
    name = f"rh_gone_{int(time.time() * 1000)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database = f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    server = start_server(database, tmp_path / "server.log",
                          artifact_location=str(tmp_path / "artifacts"))  # fmt: skip
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            _running_run(http)
            with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            response = http.post("/api/v1/experiments", json={"name": "after-drop"})
            assert response.status_code == 503, response.text
            body = response.json()
            assert body["fields"]["reason"] == "unavailable"
            _assert_clean(body, name, str(tmp_path))
            ident = body["fields"]["error_id"]
            assert http.get("/healthz").status_code == 200  # the same connection still works
        assert ident in server.log()
    finally:
        server.stop()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_read_only_workspace_is_refused_at_start_naming_the_folder(tmp_path: Path) -> None:
    source = tmp_path / "source"
    workspace_with_a_run(source / "ws")
    with read_only_view(source, tmp_path / "ro") as view, pytest.raises(StorageError) as caught:
        open_services(ServerSettings(backend_store_uri=str(view / "ws")))
    assert f"folder {view / 'ws'} is read-only" in str(caught.value)
    assert caught.value.fields["reason"] == "read-only"


def test_a_full_disk_is_503_naming_the_reason_not_the_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with tiny_disk(tmp_path / "disk") as disk:
        settings = ServerSettings(backend_store_uri=str(disk / "ws"))
        with caplog.at_level(logging.WARNING), serving(
            create_app(settings, open_services(settings))
        ) as http:  # fmt: skip
            run_id = _running_run(http)
            fill(disk)
            columns = [list(range(50_000)), [0] * 50_000, [1.0] * 50_000, [None] * 50_000,
                       [1.0] * 50_000]  # fmt: skip
            writes = [{"name": "x", "kind": "scalar", "columns": columns}]
            response = http.post(f"/api/v1/runs/{run_id}/metrics", json={"writes": writes})
            assert response.status_code == 503, response.text
            body = response.json()
            assert body["fields"]["reason"] == "disk full"
            _assert_clean(body, str(tmp_path))
            assert http.get(f"/api/v1/runs/{run_id}").status_code == 200  # reads still work
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert body["fields"]["error_id"] in logged
    assert "no space left on device while writing the metadata store" in logged


def _poison(database: Path, run_id: str) -> None:
    """A stored document whose text is not JSON (what a bad write once let in)."""
    with sqlite3.connect(database) as conn:
        conn.execute(
            "UPDATE metrics SET last_vtype = 5, last_value = NULL, last_text = '{not json' "
            "WHERE run_id = ?", (run_id,),
        )  # fmt: skip


def test_a_failed_read_never_wedges_a_sqlite_server(tmp_path: Path) -> None:
    settings = ServerSettings(backend_store_uri=str(tmp_path / "ws"))
    with serving(create_app(settings, open_services(settings))) as http:
        run_id = _running_run(http)
        for name in ("a", "b", "c"):
            columns = [[0], [0], [1.0], [None], [time.time()]]
            writes = [{"name": name, "kind": "scalar", "columns": columns}]
            assert http.post(f"/api/v1/runs/{run_id}/metrics", json={"writes": writes}).is_success
        _poison(tmp_path / "ws" / "runhistory.db", run_id)
        for path in ("metrics", "metrics/info", "metrics/history?name=a"):
            response = http.get(f"/api/v1/runs/{run_id}/{path}")
            assert response.status_code != 503, response.text
            if response.status_code >= 500:
                assert "error_id" in response.json()["fields"]
                _assert_clean(response.json(), str(tmp_path))
        started = time.monotonic()
        other = sqlite3.connect(tmp_path / "ws" / "runhistory.db", timeout=1)
        other.execute("BEGIN IMMEDIATE")  # another process can write at once
        other.rollback()
        other.close()
        created = http.post("/api/v1/experiments", json={"name": "after-the-failure"})
        assert created.status_code == 200, created.text
        run_after = _running_run(http, "after-the-failure")
        assert http.get(f"/api/v1/runs/{run_after}").status_code == 200
        assert time.monotonic() - started < 5
