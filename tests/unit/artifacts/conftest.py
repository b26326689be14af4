"""Artifact stores to test against: a local folder and a real S3-compatible server (moto)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from runhistory.artifacts import ArtifactStore, open_artifact_store

BUCKET = "runhistory-tests"
ACCESS_KEY = "testing-key-id"
SECRET_KEY = "testing-secret-key"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"moto server did not answer at {url} within {timeout} s")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """URL of a moto S3 server running in a subprocess, with bucket :data:`BUCKET`."""
    import boto3

    port = _free_port()
    command = [sys.executable, "-m", "moto.server", "-p", str(port), "-H", "127.0.0.1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(endpoint, process)
        client = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        )  # fmt: skip
        client.create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def s3_options(endpoint: str) -> dict[str, Any]:
    """Storage options that point s3fs at the test server."""
    return {
        "key": ACCESS_KEY,
        "secret": SECRET_KEY,
        "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"},
    }


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> ArtifactStore:
    """A fresh, empty artifact store: a folder in ``tmp_path``, or a new prefix in the bucket."""
    if request.param == "local":
        return open_artifact_store(os.path.join(tmp_path, "artifacts"))
    endpoint = request.getfixturevalue("s3_endpoint")
    return open_artifact_store(f"s3://{BUCKET}/{uuid.uuid4().hex}", s3_options(endpoint))


@pytest.fixture
def s3_config(s3_endpoint: str) -> dict[str, str]:
    """Endpoint, bucket and credentials of the test S3 server."""
    return {"endpoint": s3_endpoint, "bucket": BUCKET, "key": ACCESS_KEY, "secret": SECRET_KEY}
