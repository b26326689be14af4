"""An unreachable object store: the server answers 503 with Retry-After (never 500, never a
404 for a file that exists), and the client retries an upload until the store is back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from support.services import BUCKET, MotoServer, ServerProcess, s3_environment, start_server

# Make botocore fail fast instead of retrying a refused connection for seconds.
FAST_FAILURE = {"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}


@contextmanager
def _server_on_s3(tmp_path: Path) -> Iterator[tuple[ServerProcess, MotoServer]]:
    moto = MotoServer()
    moto.start()
    env = {**s3_environment(moto.endpoint), **FAST_FAILURE}
    server = start_server(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "server.log",
                          artifact_location=f"s3://{BUCKET}/artifacts", env=env)  # fmt: skip
    try:
        yield server, moto
    finally:
        server.stop()
        moto.stop()


def _new_run(http: httpx.Client) -> str:
    experiment = http.post("/api/v1/experiments", json={"name": "s3-faults"}).json()
    run = http.post("/api/v1/runs", json={"experiment_id": experiment["experiment_id"]})
    return str(run.json()["run_id"])


def test_an_unreachable_store_answers_503_with_retry_after(tmp_path: Path) -> None:
    with _server_on_s3(tmp_path) as (server, moto), httpx.Client(base_url=server.url) as http:
        run_id = _new_run(http)
        files = f"/api/v1/runs/{run_id}/files"
        assert http.put(f"{files}/kept.txt", content=b"kept").status_code == 200
        moto.stop()
        for response in (http.put(f"{files}/new.txt", content=b"new"),
                         http.get(f"{files}/kept.txt")):  # fmt: skip
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"].isdigit()
            assert response.json()["error"] == "StorageError"
            assert "kept.txt" in response.text or "new.txt" in response.text
        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["artifacts"].startswith("unavailable")
        assert ready.json()["checks"]["database"] == "ok"
        moto.start()
        assert http.get("/readyz").status_code == 200
        assert "Traceback" not in server.log()


def test_the_client_retries_an_upload_until_the_store_is_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runhistory import Experiment, Workspace

    monkeypatch.setenv("RUNHISTORY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RUNHISTORY_HTTP_RETRY_SECONDS", "60")
    source = tmp_path / "weights.bin"
    source.write_bytes(b"w" * 100_000)
    with _server_on_s3(tmp_path) as (server, moto):
        run = Experiment(Workspace(tracking_uri=server.url), "s3-retry").start_logging(
            outputs=False
        )
        moto.stop()
        back = threading.Timer(2.0, moto.start)
        back.start()
        started = time.monotonic()
        run.upload_file("outputs/weights.bin", str(source))
        assert time.monotonic() - started > 1.5  # it did wait for the store
        back.join()
        target = tmp_path / "downloaded.bin"
        run.download_file("outputs/weights.bin", str(target))
        assert target.read_bytes() == source.read_bytes()
        run.complete()
