"""Multipart uploads of the artifact stores: a local folder (parts staged by the server) and a
real S3-compatible server (moto; parts sent to presigned URLs with a real HTTP client)."""

from __future__ import annotations

import hashlib
import io
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from runhistory.artifacts import ArtifactStore, open_artifact_store
from runhistory.artifacts.multipart import (
    MAX_PARTS,
    SECRET_HEADER,
    STAGING_FOLDER,
    MultipartUploads,
    StartedUpload,
    UploadedPart,
)
from runhistory.errors import (
    MultipartUnsupportedError,
    NotFoundError,
    PermissionDeniedError,
    UnsafePathError,
    ValidationError,
)

PART = 5 * 1024 * 1024  # S3's smallest part but the last
BASE = "http://server.invalid/api/2.0/mlflow-artifacts/mpu/parts"
KEY = "exp/run_1/outputs/model.bin"


def _send(uploads: MultipartUploads, started: StartedUpload, number: int, data: bytes) -> str:
    """Send one part where the upload says: this server's store, or the store's own URL."""
    target = started.parts[number - 1]
    if target.url.startswith(BASE):
        secret = target.headers[SECRET_HEADER]
        return uploads.put_part(started.upload_id, number, secret, io.BytesIO(data))
    answer = httpx.put(target.url, content=data, headers=target.headers)
    assert answer.status_code == 200, answer.text
    return answer.headers["ETag"]


def _local(tmp_path: Path) -> tuple[ArtifactStore, MultipartUploads, Path]:
    root = tmp_path / "artifacts"
    store = open_artifact_store(str(root))
    return store, store.multipart(), root / STAGING_FOLDER


def test_parts_are_joined_in_order_under_the_key(store: ArtifactStore) -> None:
    uploads = store.multipart()
    store.put_bytes(KEY, b"an earlier file of that name")
    data = os.urandom(2 * PART + 777)
    started = uploads.start(KEY, 3, BASE)
    assert [p.part_number for p in started.parts] == [1, 2, 3]
    pieces = [data[:PART], data[PART : 2 * PART], data[2 * PART :]]
    etags = {n: _send(uploads, started, n, pieces[n - 1]) for n in (3, 1, 2)}  # any order
    parts = [UploadedPart(n, etags[n]) for n in (1, 2, 3)]
    joined = uploads.complete(KEY, started.upload_id, parts)
    assert (joined.size, joined.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert store.get_bytes(KEY) == data  # replaced
    assert list(store.list_keys("")) == [KEY]


def test_an_aborted_upload_is_gone(store: ArtifactStore) -> None:
    uploads = store.multipart()
    started = uploads.start(KEY, 2, BASE)
    _send(uploads, started, 1, b"first")
    uploads.abort(KEY, started.upload_id)
    with pytest.raises(NotFoundError, match="in progress"):
        uploads.abort(KEY, started.upload_id)
    assert not store.exists(KEY)


def test_a_store_that_cannot_take_parts_says_so() -> None:
    with pytest.raises(MultipartUnsupportedError, match="one upload"):
        open_artifact_store("memory://multipart-tests").multipart()


def test_local_parts_need_the_uploads_secret(tmp_path: Path) -> None:
    _, uploads, staging = _local(tmp_path)
    started = uploads.start(KEY, 2, BASE)
    secret = started.parts[0].headers[SECRET_HEADER]
    assert started.parts[1].url == f"{BASE}/{started.upload_id}/2"
    assert secret not in (staging / started.upload_id / "upload.json").read_text()
    with pytest.raises(PermissionDeniedError, match="secret"):
        uploads.put_part(started.upload_id, 1, secret + "x", io.BytesIO(b"evil"))
    with pytest.raises(PermissionDeniedError):
        uploads.put_part(started.upload_id, 1, "", io.BytesIO(b"evil"))
    assert sorted(p.name for p in (staging / started.upload_id).iterdir()) == ["upload.json"]


@pytest.mark.parametrize("number", [0, 3, MAX_PARTS + 1])
def test_local_part_numbers_are_checked(tmp_path: Path, number: int) -> None:
    _, uploads, _ = _local(tmp_path)
    started = uploads.start(KEY, 2, BASE)
    secret = started.parts[0].headers[SECRET_HEADER]
    with pytest.raises(ValidationError, match="parts 1 to 2"):
        uploads.put_part(started.upload_id, number, secret, io.BytesIO(b"x"))


@pytest.mark.parametrize("upload_id", ["0" * 32, "../../etc", "", "A" * 32])
def test_unknown_local_uploads_are_not_found(tmp_path: Path, upload_id: str) -> None:
    _, uploads, _ = _local(tmp_path)
    with pytest.raises(NotFoundError):
        uploads.complete(KEY, upload_id, [UploadedPart(1, "e")])
    with pytest.raises(NotFoundError):
        uploads.abort(KEY, upload_id)
    with pytest.raises(NotFoundError):
        uploads.check_part(upload_id, 1, "secret")


def test_local_complete_needs_every_part_with_its_etag(tmp_path: Path) -> None:
    store, uploads, staging = _local(tmp_path)
    started = uploads.start(KEY, 2, BASE)
    first = _send(uploads, started, 1, b"one")
    with pytest.raises(ValidationError, match="missing: 2"):
        uploads.complete(KEY, started.upload_id, [UploadedPart(1, first)])
    with pytest.raises(ValidationError, match="never sent"):
        uploads.complete(
            KEY, started.upload_id, [UploadedPart(1, first), UploadedPart(2, "0" * 64)]
        )
    second = _send(uploads, started, 2, b"two")
    with pytest.raises(ValidationError, match="ETag"):
        uploads.complete(KEY, started.upload_id, [UploadedPart(1, second), UploadedPart(2, second)])
    with pytest.raises(ValidationError, match="ascending"):
        uploads.complete(KEY, started.upload_id, [UploadedPart(2, second), UploadedPart(1, first)])
    with pytest.raises(NotFoundError, match="not an upload to"):
        uploads.complete("exp/run_1/other.bin", started.upload_id, [UploadedPart(1, first)])
    assert not store.exists(KEY)
    quoted = [UploadedPart(1, f'"{first}"'), UploadedPart(2, second)]  # as HTTP quotes ETags
    assert uploads.complete(KEY, started.upload_id, quoted).size == 6
    assert store.get_bytes(KEY) == b"onetwo"
    assert list(staging.iterdir()) == []


def test_a_resent_local_part_replaces_the_earlier_one(tmp_path: Path) -> None:
    store, uploads, _ = _local(tmp_path)
    started = uploads.start(KEY, 1, BASE)
    _send(uploads, started, 1, b"first try")
    etag = _send(uploads, started, 1, b"second")
    uploads.complete(KEY, started.upload_id, [UploadedPart(1, etag)])
    assert store.get_bytes(KEY) == b"second"


def test_local_parts_are_streamed_in_chunks(tmp_path: Path) -> None:
    _, uploads, _ = _local(tmp_path)
    started = uploads.start(KEY, 1, BASE)
    source = _CountingReader(3 * 1024 * 1024 + 5)
    secret = started.parts[0].headers[SECRET_HEADER]
    uploads.put_part(started.upload_id, 1, secret, source)  # type: ignore[arg-type]
    assert 0 < source.largest_read <= 1024 * 1024


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "a/../../b", f"{STAGING_FOLDER}/x"])
def test_unsafe_keys_are_refused(store: ArtifactStore, key: str) -> None:
    with pytest.raises(UnsafePathError):
        store.multipart().start(key, 1, BASE)


@pytest.mark.parametrize("num_parts", [0, -1, MAX_PARTS + 1, True, "2"])
def test_part_counts_are_checked(store: ArtifactStore, num_parts: Any) -> None:
    with pytest.raises(ValidationError, match="num_parts"):
        store.multipart().start(KEY, num_parts, BASE)


def test_a_stale_local_upload_is_dropped_when_another_starts(tmp_path: Path) -> None:
    _, uploads, staging = _local(tmp_path)
    old = uploads.start(KEY, 2, BASE)
    _send(uploads, old, 1, b"left behind")
    recent = uploads.start(KEY, 1, BASE)
    week = 8 * 24 * 3600
    os.utime(staging / old.upload_id, (time.time() - week, time.time() - week))
    uploads.start("exp/run_1/other.bin", 1, BASE)
    assert not (staging / old.upload_id).exists()
    assert (staging / recent.upload_id).is_dir()
    with pytest.raises(NotFoundError):
        uploads.abort(KEY, old.upload_id)


def test_the_staging_folder_is_hidden_from_listings(tmp_path: Path) -> None:
    store, uploads, _ = _local(tmp_path)
    started = uploads.start(KEY, 1, BASE)
    _send(uploads, started, 1, b"staged")
    store.put_bytes("exp/run_1/kept.txt", b"kept")
    assert list(store.list_keys("")) == ["exp/run_1/kept.txt"]


class _CountingReader:
    """A stream that hands out ``size`` bytes and remembers the biggest read asked of it."""

    def __init__(self, size: int) -> None:
        self._left = size
        self.largest_read = 0

    def read(self, n: int = -1) -> bytes:
        self.largest_read = max(self.largest_read, n)
        take = min(n, self._left) if n > 0 else self._left
        self._left -= take
        return b"z" * take
