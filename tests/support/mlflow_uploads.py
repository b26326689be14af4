"""MLflow's multipart uploads through a ``runhistory server``'s artifact proxy, for the tests of
both kinds of store (a local folder and S3): the client's settings, a run, the ``mpu`` URLs."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient


def send_in_parts(monkeypatch: pytest.MonkeyPatch, part_size: int) -> None:
    """MLflow's client sends every file over 1 KB through the proxy in parts of ``part_size``."""
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", "1024")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(part_size))


def new_run(server_url: str) -> str:
    """A run of the server's Default experiment ("0"), named explicitly: MLflow's fluent API
    would remember an earlier test's experiment, which belongs to another server."""
    return str(MlflowClient(server_url).create_run("0").info.run_id)


def mpu_url(server_url: str, step: str, run_id: str, folder: str = "") -> str:
    """The proxy's ``mpu/<step>`` URL of a file in ``folder`` of a run of experiment "0"."""
    path = f"0/{run_id}/artifacts" + (f"/{folder}" if folder else "")
    return f"{server_url}/api/2.0/mlflow-artifacts/mpu/{step}/{path}"
