"""MLflow's multipart uploads through a ``runhistory server`` whose artifacts live in S3 (a real
moto server on loopback): the server answers ``mpu/create`` with presigned ``UploadPart`` URLs
of S3's own multipart API, the client sends each part straight to the bucket, and
``mpu/complete`` joins them there and indexes the file among the run's files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mlflow.tracking import MlflowClient

from runhistory import Run, Workspace
from support.mlflow_uploads import mpu_url, new_run, send_in_parts
from support.services import (
    BUCKET,
    ServerProcess,
    moto_server,
    s3_client,
    s3_environment,
    start_server,
)

# MLflow's client warns about its own deprecations.
pytestmark = pytest.mark.filterwarnings("ignore::Warning")

PART = 5 * 1024 * 1024  # S3's smallest part (but the last)
PREFIX = "mlflow-multipart"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    """A ``runhistory server`` on SQLite with its artifacts in the moto bucket, and the
    bucket's endpoint."""
    folder = tmp_path_factory.mktemp("multipart-s3")
    with moto_server() as endpoint:
        server = start_server(f"sqlite:///{folder / 'srv.db'}", folder / "server.log",
                              artifact_location=f"s3://{BUCKET}/{PREFIX}",
                              env=s3_environment(endpoint))  # fmt: skip
        try:
            yield server, endpoint
        finally:
            server.stop()


@pytest.fixture
def mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    send_in_parts(monkeypatch, PART)


def test_mlflow_sends_the_parts_straight_to_s3(
    s3: tuple[ServerProcess, str], mlflow_env: None, tmp_path: Path
) -> None:
    server, endpoint = s3
    assert httpx.get(f"{server.url}/api/3.0/mlflow/server-info").json()["multipart_uploads_enabled"]
    client = MlflowClient(server.url)
    run_id = new_run(server.url)
    data = os.urandom(2 * PART + 4321)  # 3 parts
    (tmp_path / "weights.bin").write_bytes(data)
    client.log_artifact(run_id, str(tmp_path / "weights.bin"), "checkpoints")
    back = client.download_artifacts(run_id, "checkpoints/weights.bin", str(tmp_path / "b"))
    assert Path(back).read_bytes() == data
    run = Run.get(Workspace(tracking_uri=server.url), run_id)
    assert run.get_file_names() == ["checkpoints/weights.bin"]
    key = f"{PREFIX}/{run.experiment.id}/{run_id}/checkpoints/weights.bin"
    head = s3_client(endpoint).head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3")  # S3 joined three parts
    assert s3_client(endpoint).list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_an_aborted_s3_upload_leaves_no_parts(s3: tuple[ServerProcess, str]) -> None:
    server, endpoint = s3
    run_id = new_run(server.url)
    created = httpx.post(mpu_url(server.url, "create", run_id),
                         json={"path": "/local/big.bin", "num_parts": 2}).json()  # fmt: skip
    first = created["credentials"][0]
    assert first["url"].startswith(endpoint) and first["headers"] == {}
    assert httpx.put(first["url"], content=b"x" * 1024).status_code == 200
    uploads = s3_client(endpoint).list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert [u["UploadId"] for u in uploads] == [created["upload_id"]]
    body = {"path": "/local/big.bin", "upload_id": created["upload_id"]}
    assert httpx.post(mpu_url(server.url, "abort", run_id), json=body).status_code == 200
    assert s3_client(endpoint).list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    again = httpx.post(mpu_url(server.url, "abort", run_id), json=body)  # S3 answers NoSuchUpload
    assert again.status_code == 404
    assert again.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert Run.get(Workspace(tracking_uri=server.url), run_id).get_file_names() == []


def test_escaping_paths_are_refused_before_s3_is_asked(s3: tuple[ServerProcess, str]) -> None:
    server, endpoint = s3
    run_id = new_run(server.url)
    answer = httpx.post(mpu_url(server.url, "create", run_id) + "/%2E%2E/%2E%2E/x",
                        json={"path": "/local/f.bin", "num_parts": 1})  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert s3_client(endpoint).list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
