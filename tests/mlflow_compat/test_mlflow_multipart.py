"""MLflow's multipart uploads through the artifact proxy of a real ``runhistory server`` whose
artifacts live in a local folder: the server hands out part URLs of its own, guarded by a
per-upload secret, stages the parts under ``<artifacts>/.rh-multipart/`` and joins them on
``mpu/complete``. A server on a store that cannot take parts answers 501 and the client sends
the file in one upload."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mlflow.exceptions import _UnsupportedMultipartUploadException
from mlflow.tracking import MlflowClient

from runhistory import Run, Workspace
from runhistory.client.backend import resolve_location
from runhistory.store.sql.tokens import SqlTokenStore
from support.mlflow_uploads import mpu_url, new_run, send_in_parts
from support.services import ServerProcess, start_server

# MLflow's client warns about its own deprecations.
pytestmark = pytest.mark.filterwarnings("ignore::Warning")

CHUNK = 4096
SECRET_HEADER = "X-Runhistory-Upload-Secret"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A ``runhistory server`` on SQLite with its artifacts in a local folder."""
    folder = tmp_path_factory.mktemp("multipart")
    process = start_server(f"sqlite:///{folder / 'srv.db'}", folder / "server.log",
                           artifact_location=str(folder / "artifacts"))  # fmt: skip
    yield process
    process.stop()


@pytest.fixture
def mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow's client sends every file over 1 KB in parts of 4 KB."""
    send_in_parts(monkeypatch, CHUNK)


def _staging(server: ServerProcess) -> Path:
    artifacts = server.command[server.command.index("--artifact-location") + 1]
    return Path(artifacts) / ".rh-multipart"


def _mpu(server: ServerProcess, step: str, run_id: str, name: str) -> str:
    """The ``mpu/<step>`` URL of artifact ``name``."""
    return mpu_url(server.url, step, run_id, name.rpartition("/")[0])


def _create(server: ServerProcess, run_id: str, name: str, num_parts: int) -> httpx.Response:
    local = "/local/" + name.rpartition("/")[2]
    return httpx.post(_mpu(server, "create", run_id, name),
                      json={"path": local, "num_parts": num_parts})  # fmt: skip


def _finish(
    server: ServerProcess, run_id: str, step: str, name: str, **body: Any
) -> httpx.Response:
    local = "/local/" + name.rpartition("/")[2]
    return httpx.post(_mpu(server, step, run_id, name), json={"path": local, **body})


def _put(credential: dict[str, Any], data: bytes, **headers: str) -> httpx.Response:
    return httpx.put(credential["url"], content=data, headers={**credential["headers"], **headers})


def _error(answer: httpx.Response, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    assert answer.json()["error_code"] == code
    return str(answer.json()["message"])


def test_mlflow_logs_a_file_in_parts_and_reads_it_back(
    server: ServerProcess, mlflow_env: None, tmp_path: Path
) -> None:
    client = MlflowClient(server.url)
    run_id = new_run(server.url)
    data = os.urandom(16 * CHUNK + 123)  # 17 parts, the last one short
    source = tmp_path / "weights.bin"
    source.write_bytes(data)
    client.log_artifact(run_id, str(source), "checkpoints")
    back = client.download_artifacts(run_id, "checkpoints/weights.bin", str(tmp_path))
    assert Path(back).read_bytes() == data
    mine = Run.get(Workspace(tracking_uri=server.url), run_id)
    assert mine.get_file_names() == ["checkpoints/weights.bin"]
    # the parts went through the staging folder, which the joined upload left empty
    assert _staging(server).is_dir()
    assert list(_staging(server).iterdir()) == []
    listed = client.list_artifacts(run_id, "checkpoints")
    assert [(f.path, f.file_size) for f in listed] == [("checkpoints/weights.bin", len(data))]


def test_server_info_turns_multipart_on_without_the_variable(
    server: ServerProcess, mlflow_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    info = httpx.get(f"{server.url}/api/3.0/mlflow/server-info").json()
    assert info["multipart_uploads_enabled"] is True
    monkeypatch.delenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD")
    run_id = new_run(server.url)
    data = os.urandom(3 * CHUNK)
    (tmp_path / "model.bin").write_bytes(data)
    _staging(server).mkdir(parents=True, exist_ok=True)
    os.utime(_staging(server), ns=(0, 0))
    MlflowClient(server.url).log_artifact(run_id, str(tmp_path / "model.bin"))
    # an upload's folder came and went in the staging folder: the file went in parts
    assert _staging(server).stat().st_mtime_ns > 0
    back = MlflowClient(server.url).download_artifacts(run_id, "model.bin", str(tmp_path / "b"))
    assert Path(back).read_bytes() == data


def test_a_new_upload_under_an_existing_name_replaces_the_file(
    server: ServerProcess, mlflow_env: None, tmp_path: Path
) -> None:
    client = MlflowClient(server.url)
    run_id = new_run(server.url)
    first, second = os.urandom(5 * CHUNK), os.urandom(3 * CHUNK + 7)
    for data in (first, second):
        (tmp_path / "w.bin").write_bytes(data)
        client.log_artifact(run_id, str(tmp_path / "w.bin"))
    back = client.download_artifacts(run_id, "w.bin", str(tmp_path / "back"))
    assert Path(back).read_bytes() == second


def test_an_aborted_upload_leaves_nothing(server: ServerProcess) -> None:
    run_id = new_run(server.url)
    created = _create(server, run_id, "big.bin", 3).json()
    upload_id = created["upload_id"]
    assert _put(created["credentials"][0], b"a" * CHUNK).status_code == 200
    assert (_staging(server) / upload_id).is_dir()
    assert _finish(server, run_id, "abort", "big.bin", upload_id=upload_id).status_code == 200
    assert not (_staging(server) / upload_id).exists()
    again = _finish(server, run_id, "complete", "big.bin", upload_id=upload_id,
                    parts=[{"part_number": 1, "etag": "x"}])  # fmt: skip
    assert "in progress" in _error(again, 404, "RESOURCE_DOES_NOT_EXIST")
    late = _put(created["credentials"][1], b"b")
    _error(late, 404, "RESOURCE_DOES_NOT_EXIST")
    assert Run.get(Workspace(tracking_uri=server.url), run_id).get_file_names() == []


def test_a_part_of_megabytes_streams_into_the_staging_folder(
    server: ServerProcess, tmp_path: Path
) -> None:
    run_id = new_run(server.url)
    created = _create(server, run_id, "large/w.bin", 2).json()
    first, second = os.urandom(3 * 1024 * 1024 + 11), b"!"
    credentials = created["credentials"]
    etags = [
        _put(credentials[0], first).headers["ETag"],
        _put(credentials[1], second).headers["ETag"],
    ]
    parts = [{"part_number": n, "etag": etag} for n, etag in enumerate(etags, 1)]
    done = _finish(server, run_id, "complete", "large/w.bin", upload_id=created["upload_id"],
                   parts=parts)  # fmt: skip
    assert done.status_code == 200, done.text
    back = MlflowClient(server.url).download_artifacts(run_id, "large/w.bin", str(tmp_path))
    assert Path(back).read_bytes() == first + second


def test_a_forged_secret_is_refused(server: ServerProcess) -> None:
    run_id = new_run(server.url)
    created = _create(server, run_id, "f.bin", 1).json()
    credential = created["credentials"][0]
    assert SECRET_HEADER in credential["headers"]
    assert credential["url"].endswith(f"/mpu/parts/{created['upload_id']}/1")
    forged = _put(credential, b"evil", **{SECRET_HEADER: "not-the-secret"})
    assert "secret" in _error(forged, 403, "PERMISSION_DENIED")
    anonymous = httpx.put(credential["url"], content=b"evil")
    _error(anonymous, 403, "PERMISSION_DENIED")
    assert list((_staging(server) / created["upload_id"]).glob("part-*")) == []
    _finish(server, run_id, "abort", "f.bin", upload_id=created["upload_id"])


def test_unknown_uploads_parts_and_etags_are_refused(server: ServerProcess) -> None:
    run_id = new_run(server.url)
    unknown = _finish(server, run_id, "complete", "u.bin", upload_id="0" * 32,
                      parts=[{"part_number": 1, "etag": "e"}])  # fmt: skip
    _error(unknown, 404, "RESOURCE_DOES_NOT_EXIST")
    _error(_finish(server, run_id, "abort", "u.bin", upload_id="../../etc"), 404,
           "RESOURCE_DOES_NOT_EXIST")  # fmt: skip
    created = _create(server, run_id, "u.bin", 2).json()
    upload_id, credentials = created["upload_id"], created["credentials"]
    etag = _put(credentials[0], b"one").headers["ETag"]
    missing = _finish(server, run_id, "complete", "u.bin", upload_id=upload_id,
                      parts=[{"part_number": 1, "etag": etag}])  # fmt: skip
    assert "missing: 2" in _error(missing, 400, "INVALID_PARAMETER_VALUE")
    beyond = dict(credentials[1], url=credentials[1]["url"].rsplit("/", 1)[0] + "/3")
    _error(_put(beyond, b"three"), 400, "INVALID_PARAMETER_VALUE")
    zero = dict(credentials[1], url=credentials[1]["url"].rsplit("/", 1)[0] + "/0")
    _error(_put(zero, b"zero"), 400, "INVALID_PARAMETER_VALUE")
    _put(credentials[1], b"two")
    both = [{"part_number": 1, "etag": etag}, {"part_number": 2, "etag": etag}]
    wrong = _finish(server, run_id, "complete", "u.bin", upload_id=upload_id, parts=both)
    assert "ETag" in _error(wrong, 400, "INVALID_PARAMETER_VALUE")
    elsewhere = _finish(server, run_id, "abort", "other.bin", upload_id=upload_id)
    _error(elsewhere, 404, "RESOURCE_DOES_NOT_EXIST")
    _finish(server, run_id, "abort", "u.bin", upload_id=upload_id)


def test_paths_that_escape_the_run_are_refused(server: ServerProcess) -> None:
    run_id = new_run(server.url)
    base = mpu_url(server.url, "create", run_id)
    for folder, local in (("%2E%2E/%2E%2E/x", "/tmp/f.bin"), ("", "/tmp/.."), ("a", "..")):
        url = f"{base}/{folder}" if folder else base
        answer = httpx.post(url, json={"path": local, "num_parts": 1})
        _error(answer, 400, "INVALID_PARAMETER_VALUE")
    unknown_run = httpx.post(f"{server.url}/api/2.0/mlflow-artifacts/mpu/create/0/nope/artifacts",
                             json={"path": "/tmp/f.bin", "num_parts": 1})  # fmt: skip
    _error(unknown_run, 404, "RESOURCE_DOES_NOT_EXIST")
    for parts in (0, 10_001, "x"):
        answer = httpx.post(base, json={"path": "/tmp/f.bin", "num_parts": parts})
        _error(answer, 400, "INVALID_PARAMETER_VALUE")
    assert not _staging(server).exists() or list(_staging(server).iterdir()) == []


def test_a_store_that_cannot_take_parts_makes_the_client_send_one_upload(
    tmp_path: Path, mlflow_env: None
) -> None:
    server = start_server(f"sqlite:///{tmp_path / 'srv.db'}", tmp_path / "server.log",
                          artifact_location="memory://runhistory-tests")  # fmt: skip
    try:
        info = httpx.get(f"{server.url}/api/3.0/mlflow/server-info").json()
        assert info["multipart_uploads_enabled"] is False
        run_id = new_run(server.url)
        answer = _create(server, run_id, "w.bin", 4)
        message = _error(answer, 501, "NOT_IMPLEMENTED")
        assert message.startswith(_UnsupportedMultipartUploadException.MESSAGE)
        data = os.urandom(8 * CHUNK)
        (tmp_path / "w.bin").write_bytes(data)
        client = MlflowClient(server.url)
        client.log_artifact(run_id, str(tmp_path / "w.bin"))
        back = client.download_artifacts(run_id, "w.bin", str(tmp_path / "back"))
        assert Path(back).read_bytes() == data
    finally:
        server.stop()


def test_with_auth_parts_need_the_secret_and_the_rest_a_token(
    tmp_path: Path, mlflow_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "ws"
    store.mkdir()
    database = resolve_location(str(store)).database_url
    assert database is not None
    tokens = SqlTokenStore.open(database)
    token, _ = tokens.create("mlflow-multipart")
    tokens.close()
    server = start_server(str(store), tmp_path / "server.log", extra_args=["--auth"])
    try:
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
        client = MlflowClient(server.url)
        run_id = client.create_run("0").info.run_id
        anonymous = _create(server, run_id, "w.bin", 2)
        assert anonymous.status_code == 401
        data = os.urandom(4 * CHUNK + 1)
        (tmp_path / "w.bin").write_bytes(data)
        client.log_artifact(run_id, str(tmp_path / "w.bin"))  # parts: secret, no token
        assert [p.name for p in store.rglob(".rh-multipart")] == [".rh-multipart"]
        back = client.download_artifacts(run_id, "w.bin", str(tmp_path / "back"))
        assert Path(back).read_bytes() == data
    finally:
        server.stop()
