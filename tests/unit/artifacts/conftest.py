"""Artifact stores to test against: a local folder and a real S3-compatible server (moto)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from runhistory.artifacts import ArtifactStore, open_artifact_store
from support.services import ACCESS_KEY, BUCKET, SECRET_KEY, moto_server


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """URL of a moto S3 server running in a subprocess, with bucket :data:`BUCKET`."""
    with moto_server() as endpoint:
        yield endpoint


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
