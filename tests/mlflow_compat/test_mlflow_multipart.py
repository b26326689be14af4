"""MLflow's client with proxy multipart uploads turned on (``MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD``)
logs artifacts into a real ``runhistory server``: the server answers ``mpu/create`` with the
message on which the client sends the file in one upload, and nothing is lost."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import mlflow
import pytest
from mlflow.exceptions import _UnsupportedMultipartUploadException

from runhistory import Run, Workspace
from support.services import start_server

# MLflow's client warns about its own deprecations.
pytestmark = pytest.mark.filterwarnings("ignore::Warning")


def test_a_multipart_upload_falls_back_to_one_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", "1024")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", "4096")
    server = start_server(f"sqlite:///{tmp_path / 'srv.db'}", tmp_path / "server.log",
                          artifact_location=str(tmp_path / "artifacts"))  # fmt: skip
    try:
        mlflow.set_tracking_uri(server.url)
        data = os.urandom(64 * 1024)  # 16 parts of 4 KB, over the 1 KB multipart threshold
        source = tmp_path / "weights.bin"
        source.write_bytes(data)
        # experiment "0" (Default) of this server: an earlier test's active experiment is
        # remembered by MLflow's fluent API and belongs to another server
        with mlflow.start_run(experiment_id="0") as run:
            mlflow.log_artifact(str(source), "checkpoints")
        back = mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, artifact_path="checkpoints/weights.bin",
            dst_path=str(tmp_path / "back"),
        )  # fmt: skip
        assert Path(back).read_bytes() == data
        mine = Run.get(Workspace(tracking_uri=server.url), run.info.run_id)
        assert mine.get_file_names() == ["checkpoints/weights.bin"]
        # what the client was answered when it asked for a multipart upload
        path = f"0/{run.info.run_id}/artifacts/checkpoints/weights.bin"
        answer = httpx.post(f"{server.url}/api/2.0/mlflow-artifacts/mpu/create/{path}",
                            json={"path": path, "num_parts": 16})  # fmt: skip
        assert answer.status_code == 501
        assert answer.json()["error_code"] == "NOT_IMPLEMENTED"
        assert answer.json()["message"].startswith(_UnsupportedMultipartUploadException.MESSAGE)
    finally:
        server.stop()
