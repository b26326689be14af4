"""The deployment kit without a container engine: the Dockerfile's entry point and the compose
file's settings, run as plain processes on this machine.

What docker-compose.yml describes — a migration step, then the server with the compose
environment, PostgreSQL and an S3-compatible store — is started here directly: the local
PostgreSQL stands in for the ``postgres`` service and a moto S3 server for ``minio``; every
other setting is the compose file's own. The image itself cannot be built here.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from support.services import (
    _launch,
    free_port,
    moto_server,
    postgres_database,
    runhistory_command,
    s3_client,
    stop,
)

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _dockerfile_entrypoint() -> list[str]:
    found = re.findall(r"^ENTRYPOINT (\[.*\])$", DOCKERFILE, re.MULTILINE)
    return list(yaml.safe_load(found[-1]))


def _dockerfile_env() -> dict[str, str]:
    block = re.search(r"^ENV ((?:.*\\\n)*.*)$", DOCKERFILE, re.MULTILINE)
    assert block is not None
    pairs = re.findall(r"(\w+)=(\S+)", block.group(1))
    return dict(pairs)


def test_the_dockerfile_builds_the_studio_then_a_slim_python_image() -> None:
    stages = re.findall(r"^FROM (\S+)", DOCKERFILE, re.MULTILINE)
    assert stages[0].startswith("node:") and stages[-1].startswith("python:")
    assert "slim" in stages[-1]
    assert "npm run build" in DOCKERFILE and "python -m build" in DOCKERFILE
    assert _dockerfile_entrypoint() == ["runhistory", "server"]
    assert "/readyz" in DOCKERFILE and re.search(r"^USER \w+", DOCKERFILE, re.MULTILINE)
    assert _dockerfile_env()["RUNHISTORY_SERVER_PORT"] == "5000"


def test_the_compose_file_wires_migration_server_database_and_store() -> None:
    services = COMPOSE["services"]
    assert {"postgres", "minio", "create-bucket", "migrate", "server"} <= set(services)
    assert services["migrate"]["entrypoint"] == ["runhistory", "db", "upgrade"]
    server = services["server"]
    assert server["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert server["environment"] == services["migrate"]["environment"]
    assert server["ports"] == ["5000:5000"]
    env = server["environment"]
    assert urlsplit(env["RUNHISTORY_BACKEND_STORE_URI"]).hostname == "postgres"
    assert urlsplit(env["AWS_ENDPOINT_URL"]).hostname == "minio"
    bucket = urlsplit(env["RUNHISTORY_ARTIFACT_LOCATION"]).netloc
    assert f"store/{bucket}" in services["create-bucket"]["entrypoint"]


def _local(
    env: dict[str, Any], database: str, endpoint: str, tmp: Path, url: str
) -> dict[str, str]:
    """The compose environment with the service hosts replaced by this machine's."""
    local = {key: str(value) for key, value in env.items()}
    local["RUNHISTORY_BACKEND_STORE_URI"] = database  # the `postgres` service
    local["AWS_ENDPOINT_URL"] = endpoint  # the `minio` service
    local["RUNHISTORY_SECRET_KEY_FILE"] = str(
        tmp / "keys" / Path(env["RUNHISTORY_SECRET_KEY_FILE"]).name
    )
    local["RUNHISTORY_PUBLIC_URL"] = url
    return local


@pytest.fixture
def compose_env(tmp_path: Path) -> Iterator[tuple[dict[str, str], int]]:
    compose = COMPOSE["services"]["server"]["environment"]
    image = _dockerfile_env()
    port = free_port()
    with postgres_database("rh_compose") as database, moto_server() as endpoint:
        bucket = urlsplit(compose["RUNHISTORY_ARTIFACT_LOCATION"]).netloc
        s3_client(endpoint).create_bucket(Bucket=bucket)  # the `create-bucket` service
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNHISTORY_", "AWS_"))}
        env |= image | {"RUNHISTORY_HOME": str(tmp_path / "home"), "RUNHISTORY_QUIET": "1"}
        env |= _local(compose, database, endpoint, tmp_path, f"http://127.0.0.1:{port}")
        env["RUNHISTORY_SERVER_HOST"] = "127.0.0.1"  # the image listens on 0.0.0.0
        env["RUNHISTORY_SERVER_PORT"] = str(port)
        yield env, port


def test_compose_services_as_plain_processes(
    compose_env: tuple[dict[str, str], int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, port = compose_env
    migrate = COMPOSE["services"]["migrate"]["entrypoint"]
    done = subprocess.run([runhistory_command(), *migrate[1:]], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and "schema upgraded from empty" in done.stdout, done.stderr
    url = f"http://127.0.0.1:{port}"
    entrypoint = [runhistory_command(), *_dockerfile_entrypoint()[1:]]
    server, _ = _launch(entrypoint, env, tmp_path / "server.log", url)
    try:
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 200, ready.text
        assert httpx.get(f"{url}/api/v1/runs").status_code == 401  # RUNHISTORY_SERVER_AUTH
        made = subprocess.run(
            [runhistory_command(), "token", "create", "--name", "alice", "--print-url"],
            env=env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        token, link = made.stdout.split()
        assert link.startswith(f"{url}/#/sign-in?code=")
        _log_a_run(url, token, tmp_path, monkeypatch)
        keys = [o["Key"] for o in s3_client(env["AWS_ENDPOINT_URL"]).list_objects_v2(
            Bucket="runhistory")["Contents"]]  # fmt: skip
        assert any(k.startswith("artifacts/") and k.endswith("model.txt") for k in keys)
        _second_instance_agrees(entrypoint, env, tmp_path)
    finally:
        stop(server)


def _log_a_run(url: str, token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runhistory import Experiment, Workspace

    monkeypatch.setenv("RUNHISTORY_TRACKING_TOKEN", token)
    run = Experiment(Workspace(tracking_uri=url), "compose").start_logging(outputs=False)
    run.log("loss", 0.5)
    model = tmp_path / "model.txt"
    model.write_text("weights")
    run.upload_file("outputs/model.txt", str(model))
    run.complete()
    assert run.get_details()["submittedBy"] == "alice"


def _second_instance_agrees(entrypoint: list[str], env: dict[str, str], tmp_path: Path) -> None:
    """A second instance behind the same load balancer: same database, store and key."""
    port = free_port()
    second_env = env | {"RUNHISTORY_SERVER_PORT": str(port), "RUNHISTORY_SERVER_WORKERS": "1"}
    url = f"http://127.0.0.1:{port}"
    second, _ = _launch(entrypoint, second_env, tmp_path / "second.log", url)
    try:
        assert httpx.get(f"{url}/readyz").status_code == 200
    finally:
        stop(second)
