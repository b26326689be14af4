"""The ``server``, ``token`` and ``sync`` commands, run as a user runs them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from runhistory import Experiment, Workspace
from runhistory.errors import AuthenticationError, NotFoundError
from support.services import start_server

SENTINEL = "PLAINTEXT-SECRET-VALUE-5521"


def _cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("runhistory")), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_token_lifecycle_against_a_real_server(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'server.db'}"
    created = _cli("token", "create", "--name", "ci-job", "--backend-store-uri", store)
    token = created.stdout.strip()
    assert token.startswith("rht_") and "shown only once" in created.stderr
    listed = json.loads(_cli("token", "list", "--backend-store-uri", store, "-o", "json").stdout)
    assert [(t["name"], t["active"]) for t in listed] == [("ci-job", True)]
    assert token not in json.dumps(listed)
    server = start_server(store, tmp_path / "server.log", extra_args=["--auth", "--log-level",
                                                                      "debug"])  # fmt: skip
    try:
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{server.url}/api/v1/runs", headers=headers).status_code == 200
        _cli("token", "revoke", "ci-job", "--backend-store-uri", store)
        assert httpx.get(f"{server.url}/api/v1/runs", headers=headers).status_code == 401
    finally:
        server.stop()
    listed = json.loads(_cli("token", "list", "--backend-store-uri", store, "-o", "json").stdout)
    assert listed[0]["active"] is False and listed[0]["revoked"]


def test_revoking_an_unknown_token_fails_clearly(tmp_path: Path) -> None:
    result = _cli("token", "revoke", "nobody", "--backend-store-uri",
                  f"sqlite:///{tmp_path / 's.db'}", check=False)  # fmt: skip
    assert result.returncode == 1
    assert "no active token named 'nobody'" in result.stderr


def test_sdk_with_token_and_secrets_never_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = f"sqlite:///{tmp_path / 'server.db'}"
    token = _cli("token", "create", "--name", "sdk", "--backend-store-uri", store).stdout.strip()
    server = start_server(store, tmp_path / "server.log",
                          extra_args=["--auth", "--log-level", "debug"])  # fmt: skip
    try:
        with pytest.raises(AuthenticationError, match="requires a token"):
            Experiment(Workspace(tracking_uri=server.url), "no-token")
        monkeypatch.setenv("RUNHISTORY_TRACKING_TOKEN", token)
        from runhistory.client.backend import close_all

        close_all()
        workspace = Workspace(tracking_uri=server.url)
        vault = workspace.get_default_keyvault()
        vault.set_secret("db-password", SENTINEL)
        run = Experiment(workspace, "with-token").start_logging()
        assert run.get_secret("db-password") == SENTINEL
        assert SENTINEL not in repr(vault.list_secrets())
        headers = {"Authorization": f"Bearer {token}"}
        for path in ("/api/v1/secrets", "/api/v1/experiments", "/api/v1/runs", "/api/v1/models",
                     f"/api/v1/runs/{run.id}", f"/api/v1/runs/{run.id}/metrics"):  # fmt: skip
            assert SENTINEL not in httpx.get(server.url + path, headers=headers).text
        vault.delete_secret("db-password")
        with pytest.raises(NotFoundError):
            run.get_secret("db-password")
        run.complete()
    finally:
        server.stop()
    log = server.log()
    assert "GET /api/v1/secrets/db-password" in log  # the access log is on...
    assert SENTINEL not in log  # ...and never shows a value
    assert token not in log


def test_token_from_the_workspace_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = f"sqlite:///{tmp_path / 'server.db'}"
    token = _cli("token", "create", "--name", "cfg", "--backend-store-uri", store).stdout.strip()
    server = start_server(store, tmp_path / "server.log", extra_args=["--auth"])
    try:
        project = tmp_path / "project"
        (project / ".runhistory").mkdir(parents=True)
        config = {"tracking_uri": server.url, "token": token}
        (project / ".runhistory" / "config.json").write_text(json.dumps(config))
        workspace = Workspace.from_config(path=str(project))
        assert Experiment(workspace, "from-config").name == "from-config"
    finally:
        server.stop()


def test_server_refuses_a_newer_schema(tmp_path: Path) -> None:
    database = tmp_path / "newer.db"
    Workspace(tracking_uri=f"sqlite:///{database}")  # creates and migrates it
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    result = _cli("server", "--port", "0", "--backend-store-uri", f"sqlite:///{database}",
                  check=False)  # fmt: skip
    assert result.returncode == 1
    assert "newer runhistory" in result.stderr
    assert "Traceback" not in result.stderr


def test_server_reports_a_busy_port(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 's.db'}"
    server = start_server(store, tmp_path / "server.log")
    try:
        result = _cli("server", "--port", str(server.port), "--backend-store-uri", store,
                      check=False)  # fmt: skip
        assert result.returncode == 1
        assert f"cannot listen on 127.0.0.1:{server.port}" in result.stderr
    finally:
        server.stop()


def test_several_workers_serve_one_database(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from support.services import postgres_database

    with postgres_database("rh_workers") as database:
        server = start_server(database, tmp_path / "server.log", extra_args=["--workers", "2"],
                              artifact_location=str(tmp_path / "artifacts"))  # fmt: skip
        try:
            experiment = Experiment(Workspace(tracking_uri=server.url), "workers")

            def one_run(index: int) -> str:
                run = experiment.start_logging(display_name=f"r{index}")
                for step in range(2000):
                    run.log("x", step, step=step)
                run.complete()
                return run.id

            with ThreadPoolExecutor(4) as pool:
                ids = list(pool.map(one_run, range(8)))
            assert len({r.id for r in experiment.get_runs()}) == 8
            counts = [len(experiment.workspace.get_run(i).get_metrics("x")["x"]) for i in ids]
            assert counts == [2000] * 8
        finally:
            server.process.terminate()
            assert server.process.wait(20) == 0
