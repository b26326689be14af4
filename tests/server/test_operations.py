"""Operations: /readyz follows the database, /metrics sums every worker, gzip for JSON but
never for a Range request, and every server flag from a RUNHISTORY_* variable."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import click
import httpx
import psycopg
import pytest

from conftest import serving
from runhistory.cli.server_commands import server as server_command
from runhistory.server.app import create_app
from runhistory.server.config import ServerSettings, open_services
from runhistory.settings import SETTINGS
from support.services import (
    POSTGRES_URL,
    _launch,
    free_port,
    postgres_database,
    runhistory_command,
    start_server,
    stop,
)


def _admin(sql: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql)


def test_readyz_follows_a_database_outage(tmp_path: Path) -> None:
    with postgres_database("rh_ready") as url:
        name = url.rsplit("/", 1)[1]
        settings = ServerSettings(backend_store_uri=url, artifact_location=str(tmp_path / "a"))
        with serving(create_app(settings, open_services(settings))) as http:
            ready = http.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["checks"] == {"database": "ok", "artifacts": "ok"}
            _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            _admin(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            )
            try:
                down = http.get("/readyz")
                assert down.status_code == 503 and down.headers["retry-after"]
                assert down.json()["checks"]["database"].startswith("unavailable")
                assert down.json()["checks"]["artifacts"] == "ok"
                assert http.get("/healthz").status_code == 200  # alive, but not ready
                assert "postgres" not in down.text.lower()
            finally:
                _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            assert http.get("/readyz").status_code == 200  # recovered


def _sample(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_sum_every_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runhistory import Experiment, Workspace

    monkeypatch.setenv("RUNHISTORY_HOME", str(tmp_path / "home"))
    server = start_server(f"sqlite:///{tmp_path / 'm.db'}", tmp_path / "server.log",
                          extra_args=["--workers", "2"])  # fmt: skip
    try:
        run = Experiment(Workspace(tracking_uri=server.url), "metered").start_logging(outputs=False)
        for value in (1.0, 2.0, 3.0):
            run.log("loss", value)
        run.complete()
        run_id = run.id
        for _ in range(20):  # a new connection each: the two workers share them
            assert httpx.get(f"{server.url}/api/v1/runs/{run_id}").status_code == 200
        text = httpx.get(f"{server.url}/metrics").text
    finally:
        server.stop()
    route = "/api/v1/runs/{run_id}"
    assert _sample(text, "runhistory_http_requests_total", route=route, status="200") == 20
    assert _sample(text, "runhistory_http_request_duration_seconds_count", route=route) == 20
    assert _sample(text, "runhistory_metric_points_written_total") == 3
    assert "runhistory_http_requests_in_progress" in text


def test_change_groups_are_metered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runhistory import Experiment, Workspace

    monkeypatch.setenv("RUNHISTORY_HOME", str(tmp_path / "home"))
    server = start_server(f"sqlite:///{tmp_path / 'g.db'}", tmp_path / "server.log")
    try:
        experiment = Experiment(Workspace(tracking_uri=server.url), "grouped")
        for _ in range(3):  # written behind: each run's changes reach the server in batches
            run = experiment.start_logging(outputs=False)
            run.set_tags({"a": "b"})
            run.complete()
        text = httpx.get(f"{server.url}/metrics").text
    finally:
        server.stop()
    groups = _sample(text, "runhistory_change_group_batches_count")
    batches = _sample(text, "runhistory_change_group_batches_sum")
    assert groups >= 1 and batches >= 3  # one batch a run at least, each run completed
    assert batches >= groups
    assert _sample(text, "runhistory_change_group_seconds_count") == groups
    assert _sample(text, "runhistory_change_group_seconds_sum") > 0


def test_json_is_gzipped_but_not_ranges_or_binary_files(client: httpx.Client) -> None:
    experiment = client.post("/api/v1/experiments", json={"name": "zipped"}).json()
    for _ in range(20):
        client.post("/api/v1/runs", json={"experiment_id": experiment["experiment_id"]})
    listing = client.get("/api/v1/runs", headers={"Accept-Encoding": "gzip"})
    assert listing.headers["content-encoding"] == "gzip"
    assert len(listing.json()["items"]) == 20  # decoded transparently
    run_id = listing.json()["items"][0]["run_id"]
    text = b"line of a log file\n" * 500
    assert client.put(f"/api/v1/runs/{run_id}/files/logs/a.txt", content=text).is_success
    ranged = client.get(f"/api/v1/runs/{run_id}/files/logs/a.txt",
                        headers={"Accept-Encoding": "gzip", "Range": "bytes=100-199"})  # fmt: skip
    assert ranged.status_code == 206 and "content-encoding" not in ranged.headers
    assert ranged.content == text[100:200]
    binary = os.urandom(5000)
    assert client.put(f"/api/v1/runs/{run_id}/files/w.bin", content=binary).is_success
    raw = client.get(f"/api/v1/runs/{run_id}/files/w.bin", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in raw.headers and raw.content == binary
    assert gzip.decompress(gzip.compress(b"x")) == b"x"


def test_every_server_option_has_a_documented_variable() -> None:
    for param in server_command.params:
        if not isinstance(param, click.Option) or param.name in ("help",):
            continue
        if param.name in ("tracking_uri", "workspace", "verbose", "quiet", "debug"):
            continue  # the options every command shares
        variable = param.envvar
        assert isinstance(variable, str) and variable in SETTINGS, param.name
        if param.is_flag:
            expected: type = bool
        elif isinstance(param.type, (click.types.IntParamType, click.IntRange)):
            expected = int
        elif isinstance(param.type, (click.types.FloatParamType, click.FloatRange)):
            expected = float
        else:
            expected = str
        assert SETTINGS[variable].type is expected, (param.name, variable)


def test_a_server_configured_only_by_environment(tmp_path: Path) -> None:
    env = {"RUNHISTORY_BACKEND_STORE_URI": f"sqlite:///{tmp_path / 'env.db'}",
           "RUNHISTORY_SERVER_AUTH": "true", "RUNHISTORY_SERVER_LOG_LEVEL": "warning"}  # fmt: skip
    port = free_port()
    env |= {"RUNHISTORY_SERVER_PORT": str(port), "RUNHISTORY_HOME": str(tmp_path / "home")}
    url = f"http://127.0.0.1:{port}"
    process, _ = _launch([runhistory_command(), "server"], {**os.environ, **env},
                         tmp_path / "server.log", url)  # fmt: skip
    try:
        assert httpx.get(f"{url}/api/v1/runs").status_code == 401  # auth from the env
        assert httpx.get(f"{url}/healthz").status_code == 200
    finally:
        stop(process)
