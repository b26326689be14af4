"""FsspecArtifactStore on a local folder and on a real S3-compatible server."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from runhistory.artifacts import ArtifactStore, FsspecArtifactStore, open_artifact_store
from runhistory.artifacts.fsspec_store import CHUNK_SIZE
from runhistory.errors import NotFoundError, StorageError, UnsafePathError

BAD_NAMES = ["..", "a/../../b", "/etc/passwd", "C:\\x", "", "a\0b"]


class _CountingReader:
    """A stream that hands out ``size`` bytes and remembers the biggest read asked of it."""

    def __init__(self, size: int) -> None:
        self._left = size
        self.largest_read = 0

    def read(self, n: int = -1) -> bytes:
        self.largest_read = max(self.largest_read, n)
        assert n > 0, "the store must read in chunks, not everything at once"
        take = min(n, self._left)
        self._left -= take
        return b"z" * take


class _FailingReader:
    def __init__(self) -> None:
        self._calls = 0

    def read(self, n: int = -1) -> bytes:
        self._calls += 1
        if self._calls > 2:
            raise RuntimeError("source broke")
        return b"p" * n


def test_bytes_round_trip(store: ArtifactStore) -> None:
    assert store.put_bytes("exp/run/outputs/a.txt", b"hello") == 5
    assert store.get_bytes("exp/run/outputs/a.txt") == b"hello"
    assert store.exists("exp/run/outputs/a.txt")
    assert not store.exists("exp/run/outputs")
    assert not store.exists("exp/run/outputs/b.txt")


def test_overwrite_replaces_contents(store: ArtifactStore) -> None:
    store.put_bytes("k", b"first version")
    store.put_bytes("k", b"second")
    assert store.get_bytes("k") == b"second"


def test_empty_file(store: ArtifactStore, tmp_path: Path) -> None:
    assert store.put_bytes("empty", b"") == 0
    assert store.get_bytes("empty") == b""
    store.get_to_file("empty", str(tmp_path / "out" / "empty"))
    assert (tmp_path / "out" / "empty").read_bytes() == b""


def test_put_file_and_get_to_file(store: ArtifactStore, tmp_path: Path) -> None:
    data = os.urandom(CHUNK_SIZE * 2 + 123)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    assert store.put_file("exp/run/model.bin", str(source)) == len(data)
    target = tmp_path / "deep" / "er" / "model.bin"
    store.get_to_file("exp/run/model.bin", str(target))
    assert target.read_bytes() == data
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.bin"]  # no temp files left


def test_put_stream_reads_in_chunks(store: ArtifactStore) -> None:
    reader = _CountingReader(3 * CHUNK_SIZE + 5)
    assert store.put_stream("big", reader) == 3 * CHUNK_SIZE + 5  # type: ignore[arg-type]
    assert reader.largest_read == CHUNK_SIZE
    with store.open_read("big") as stream:
        assert len(stream.read()) == 3 * CHUNK_SIZE + 5


def test_failed_stream_leaves_nothing_behind(store: ArtifactStore) -> None:
    with pytest.raises(RuntimeError, match="source broke"):
        store.put_stream("half", _FailingReader())  # type: ignore[arg-type]
    assert not store.exists("half")
    assert list(store.list_keys("")) == []


def test_failed_stream_keeps_the_previous_version(store: ArtifactStore) -> None:
    store.put_bytes("kept", b"old")
    with pytest.raises(RuntimeError):
        store.put_stream("kept", _FailingReader())  # type: ignore[arg-type]
    assert store.get_bytes("kept") == b"old"


def test_open_read(store: ArtifactStore) -> None:
    store.put_bytes("a/b", b"0123456789")
    with store.open_read("a/b") as stream:
        assert stream.read(4) == b"0123"
        assert stream.read() == b"456789"


@pytest.mark.parametrize("call", ["get_bytes", "open_read", "get_to_file", "copy"])
def test_missing_key_raises_not_found_naming_it(
    store: ArtifactStore, call: str, tmp_path: Path
) -> None:
    store.put_bytes("present/file", b"x")
    args: dict[str, tuple[Any, ...]] = {
        "get_bytes": ("nothing/here",),
        "open_read": ("nothing/here",),
        "get_to_file": ("nothing/here", str(tmp_path / "out")),
        "copy": ("nothing/here", "dest"),
    }
    with pytest.raises(NotFoundError, match="nothing/here"):
        getattr(store, call)(*args[call])
    with pytest.raises(KeyError):  # NotFoundError is also a KeyError
        store.get_bytes("present")  # a folder is not a file
    assert not (tmp_path / "out").exists()


def test_copy(store: ArtifactStore) -> None:
    store.put_bytes("src/one", b"payload")
    store.copy("src/one", "dst/two")
    assert store.get_bytes("dst/two") == b"payload"
    assert store.get_bytes("src/one") == b"payload"


def test_list_keys_is_sorted_and_folder_like(store: ArtifactStore) -> None:
    for key in ["a/b/2", "a/b/1", "a/b/c/3", "a/bc", "a/b0", "z"]:
        store.put_bytes(key, key.encode())
    assert list(store.list_keys("a/b")) == ["a/b/1", "a/b/2", "a/b/c/3"]
    assert list(store.list_keys("a/b/")) == ["a/b/1", "a/b/2", "a/b/c/3"]
    assert list(store.list_keys("")) == ["a/b/1", "a/b/2", "a/b/c/3", "a/b0", "a/bc", "z"]
    assert list(store.list_keys("nothing")) == []
    assert list(store.list_keys("z")) == []


def test_delete_prefix(store: ArtifactStore) -> None:
    for key in ["run1/a", "run1/sub/b", "run10/c"]:
        store.put_bytes(key, b"x")
    store.delete_prefix("run1")
    assert list(store.list_keys("")) == ["run10/c"]
    store.delete_prefix("run1")  # nothing there is fine
    with pytest.raises(UnsafePathError):
        store.delete_prefix("")


@pytest.mark.parametrize("name", BAD_NAMES)
def test_unsafe_keys_are_refused_everywhere(
    store: ArtifactStore, name: str, tmp_path: Path
) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"x")
    calls = [
        lambda: store.put_bytes(name, b"x"),
        lambda: store.put_file(name, str(source)),
        lambda: store.put_stream(name, io.BytesIO(b"x")),
        lambda: store.get_bytes(name),
        lambda: store.open_read(name),
        lambda: store.get_to_file(name, str(tmp_path / "out")),
        lambda: store.exists(name),
        lambda: store.copy(name, "ok"),
        lambda: store.copy("ok", name),
        lambda: store.delete_prefix(name),
    ]
    if name:
        calls.append(lambda: list(store.list_keys(name)))
    for call in calls:
        with pytest.raises(UnsafePathError):
            call()
    assert not (tmp_path / "etc").exists()


def test_uri_never_contains_credentials(s3_config: dict[str, str]) -> None:
    store = open_artifact_store(
        f"s3://{s3_config['bucket']}/some/prefix",
        {"key": s3_config["key"], "secret": s3_config["secret"],
         "client_kwargs": {"endpoint_url": s3_config["endpoint"]}},
    )  # fmt: skip
    assert store.uri() == f"s3://{s3_config['bucket']}/some/prefix"
    assert s3_config["secret"] not in repr(store)
    with pytest.raises(NotFoundError) as caught:
        store.get_bytes("missing")
    assert s3_config["secret"] not in str(caught.value)
    assert "s3://" in str(caught.value)


def test_uri_strips_user_info_and_query() -> None:
    store = FsspecArtifactStore("s3://AKIA:topsecret@bucket/prefix?token=abc", {"anon": True})
    assert store.uri() == "s3://bucket/prefix"


def test_endpoint_and_credentials_from_environment(
    s3_config: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_config["endpoint"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_config["key"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_config["secret"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    prefix = uuid.uuid4().hex
    store = open_artifact_store(
        f"s3://{s3_config['bucket']}/{prefix}", {"skip_instance_cache": True}
    )
    store.put_bytes("from/env", b"ok")
    assert list(store.list_keys("")) == ["from/env"]


def test_local_roots(tmp_path: Path) -> None:
    plain = open_artifact_store(str(tmp_path / "root"))
    plain.put_bytes("x/y", b"1")
    assert (tmp_path / "root" / "x" / "y").read_bytes() == b"1"
    as_url = open_artifact_store(f"file://{tmp_path / 'root'}")
    assert as_url.get_bytes("x/y") == b"1"
    assert as_url.uri() == plain.uri() == str(tmp_path / "root")


def test_local_files_keep_default_permissions(tmp_path: Path) -> None:
    store = open_artifact_store(str(tmp_path))
    store.put_bytes("f", b"1")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o666 & ~umask


def test_local_listing_hides_in_flight_writes(tmp_path: Path) -> None:
    store = open_artifact_store(str(tmp_path))
    store.put_bytes("d/real", b"1")
    (tmp_path / "d" / ".rh-0123456789abcdef.tmp").write_bytes(b"partial")
    assert list(store.list_keys("")) == ["d/real"]


def test_unknown_protocol_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="nosuchfs://"):
        open_artifact_store("nosuchfs://bucket/x")


def test_import_stays_light() -> None:
    code = (
        "import sys, runhistory.artifacts, runhistory.artifacts.snapshot;"
        "print(sorted(m for m in ('fsspec', 's3fs', 'botocore', 'pathspec') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
