"""Artifact downloads honour HTTP ``Range`` through a real ``runhistory server``: MLflow's
artifact proxy and runhistory's own file route answer 206 with ``Content-Range`` for a range,
416 with ``Content-Range: bytes */<size>`` past the end, and ``Accept-Ranges: bytes`` always, so
an interrupted download resumes where it stopped; on a local folder and on S3 (a moto server on
loopback), where the server asks the bucket for the range itself."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import httpx
import pytest

from support.services import BUCKET, ServerProcess, moto_server, s3_environment, start_server

SIZE = 3 * 1024 * 1024 + 17  # several of the server's 1 MiB chunks, and a short one
PREFIX = "ranges"
DATA = os.urandom(SIZE)


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server on SQLite with its artifacts in a local folder."""
    folder = tmp_path_factory.mktemp("ranges-local")
    server = start_server(f"sqlite:///{folder / 'srv.db'}", folder / "server.log",
                          artifact_location=str(folder / "artifacts"),
                          env={"RUNHISTORY_HOME": str(folder / "home")})  # fmt: skip
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto S3 server (its request recorder writing into its own folder) with the bucket."""
    folder = tmp_path_factory.mktemp("ranges-moto")
    with moto_server(recording=folder / "recording") as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def on_s3(moto: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server on SQLite with its artifacts in the moto bucket."""
    folder = tmp_path_factory.mktemp("ranges-s3")
    env = {**s3_environment(moto), "RUNHISTORY_HOME": str(folder / "home")}
    server = start_server(f"sqlite:///{folder / 'srv.db'}", folder / "server.log",
                          artifact_location=f"s3://{BUCKET}/{PREFIX}", env=env)  # fmt: skip
    try:
        yield server
    finally:
        server.stop()


def _file(server: ServerProcess) -> tuple[str, str, str]:
    """A new run with the artifact ``model/weights.bin`` (sent through MLflow's proxy): the
    run's id, the proxy's URL of the file and runhistory's own."""
    run = httpx.post(f"{server.url}/api/2.0/mlflow/runs/create",
                     json={"experiment_id": "0"}).json()["run"]["info"]  # fmt: skip
    path = f"0/{run['run_id']}/artifacts/model/weights.bin"
    proxy = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{path}"
    assert httpx.put(proxy, content=DATA, timeout=60).status_code == 200
    own = f"{server.url}/api/v1/runs/{run['run_id']}/files/model/weights.bin"
    return run["run_id"], proxy, own


def _check_ranges(url: str) -> None:
    whole = httpx.get(url, timeout=60)
    assert whole.status_code == 200 and whole.content == DATA
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == str(SIZE)
    asked = {
        "bytes=0-9": (0, 9), "bytes=1048570-1048590": (1048570, 1048590),
        f"bytes={SIZE - 5}-": (SIZE - 5, SIZE - 1), "bytes=-7": (SIZE - 7, SIZE - 1),
        f"bytes=100-{SIZE + 1000}": (100, SIZE - 1), f"bytes={SIZE - 1}-{SIZE - 1}": (
            SIZE - 1, SIZE - 1),
    }  # fmt: skip
    for header, (first, last) in asked.items():
        part = httpx.get(url, headers={"Range": header}, timeout=60)
        assert part.status_code == 206, (header, part.text[:200])
        assert part.content == DATA[first : last + 1], header
        assert part.headers["content-range"] == f"bytes {first}-{last}/{SIZE}"
        assert part.headers["content-length"] == str(last - first + 1)
        assert part.headers["accept-ranges"] == "bytes"
    for header in (f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}", "bytes=9-3"):
        refused = httpx.get(url, headers={"Range": header})
        assert refused.status_code == 416, header
        assert refused.headers["content-range"] == f"bytes */{SIZE}"
    for header in ("bytes=0-1,5-6", "lines=1-2"):  # not one byte range: the whole file
        ignored = httpx.get(url, headers={"Range": header}, timeout=60)
        assert ignored.status_code == 200 and ignored.content == DATA


def _resume(url: str) -> None:
    """A download cut off after a few chunks, then resumed from the bytes it has."""
    received = b""
    with httpx.stream("GET", url, timeout=60) as cut:
        for chunk in cut.iter_bytes():
            received += chunk
            if len(received) > SIZE // 2:
                break
    rest = httpx.get(url, headers={"Range": f"bytes={len(received)}-"}, timeout=60)
    assert rest.status_code == 206
    assert received + rest.content == DATA


def _model_file(server: ServerProcess, run_id: str) -> str:
    """The proxy's URL of the weights as a file of a registered model version."""
    api = f"{server.url}/api/2.0/mlflow"
    assert httpx.post(f"{api}/registered-models/create", json={"name": "ranged"}).is_success
    version = httpx.post(f"{api}/model-versions/create", json={
        "name": "ranged", "source": f"runs:/{run_id}/model", "run_id": run_id,
    }).json()["model_version"]["version"]  # fmt: skip
    folder = f"registered-models/ranged/{version}"
    listed = httpx.get(f"{server.url}/api/2.0/mlflow-artifacts/artifacts",
                       params={"path": f"{folder}/model"}).json()["files"]  # fmt: skip
    assert [f["path"] for f in listed] == ["weights.bin"], listed
    return f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{folder}/model/weights.bin"


def test_local_downloads_honour_ranges(local: ServerProcess) -> None:
    run_id, proxy, own = _file(local)
    for url in (proxy, own, _model_file(local, run_id)):
        _check_ranges(url)
        _resume(url)
    missing = httpx.get(proxy.replace("weights.bin", "none.bin"), headers={"Range": "bytes=0-1"})
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    refused = httpx.get(proxy, headers={"Range": f"bytes={SIZE}-"})
    assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"  # MLflow's error shape


def _recorded_gets(moto: str) -> list[dict[str, str]]:
    """The headers of the GETs of objects under the test's prefix moto recorded."""
    lines = httpx.get(f"{moto}/moto-api/recorder/download-recording").text.splitlines()
    found = []
    for line in lines:
        entry = json.loads(line)
        if entry["method"] == "GET" and f"/{PREFIX}/" in entry["url"]:
            found.append({k.lower(): v for k, v in entry["headers"].items()})
    return found


def test_s3_downloads_ask_the_bucket_for_the_range(on_s3: ServerProcess, moto: str) -> None:
    _, proxy, own = _file(on_s3)
    for url in (proxy, own):
        _check_ranges(url)
        _resume(url)
        httpx.post(f"{moto}/moto-api/recorder/reset-recording")
        httpx.post(f"{moto}/moto-api/recorder/start-recording")
        try:
            part = httpx.get(url, headers={"Range": "bytes=2097152-2097161"})
        finally:
            httpx.post(f"{moto}/moto-api/recorder/stop-recording")
        assert part.status_code == 206 and part.content == DATA[2097152:2097162]
        gets = _recorded_gets(moto)
        assert [g.get("range") for g in gets] == ["bytes=2097152-2097161"], gets
