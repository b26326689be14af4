"""Content-addressed snapshots: ignore rules, deduplication, extraction, zips, limits."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from runhistory.artifacts import ArtifactStore
from runhistory.artifacts.snapshot import SnapshotStore, collect_files
from runhistory.errors import NotFoundError, SnapshotError


def _tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for relpath, content in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def _relpaths(folder: Path) -> list[str]:
    return [relpath for relpath, _abspath in collect_files(str(folder))]


def _blobs(store: ArtifactStore) -> list[str]:
    return list(store.list_keys("snapshots/blobs"))


def test_collect_files_without_ignore_file_skips_only_git(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": "1", "sub/b.py": "2", ".git/HEAD": "ref", "sub/.git/x": "y"})
    assert _relpaths(tmp_path) == ["a.py", "sub/b.py"]
    pairs = collect_files(str(tmp_path))
    assert pairs[1] == ("sub/b.py", str(tmp_path / "sub" / "b.py"))


def test_gitignore_is_used_when_there_is_no_amlignore(tmp_path: Path) -> None:
    _tree(tmp_path, {
        ".gitignore": "*.log\nbuild/\n!keep.log\n/top.txt\n",
        "a.py": "1", "run.log": "x", "keep.log": "k", "build/out.o": "o",
        "src/build/deep.o": "o", "top.txt": "t", "src/top.txt": "t",
    })  # fmt: skip
    assert _relpaths(tmp_path) == [".gitignore", "a.py", "keep.log", "src/top.txt"]


def test_amlignore_beats_gitignore(tmp_path: Path) -> None:
    _tree(tmp_path, {
        ".gitignore": "*.py\n", ".amlignore": "data/\n*.csv\n",
        "train.py": "1", "data/big.bin": "b", "results.csv": "c", "notes.md": "n",
    })  # fmt: skip
    assert _relpaths(tmp_path) == [".amlignore", ".gitignore", "notes.md", "train.py"]


def test_nested_ignore_files_are_not_read(tmp_path: Path) -> None:
    _tree(tmp_path, {"sub/.gitignore": "*.txt\n", "sub/a.txt": "a"})
    assert _relpaths(tmp_path) == ["sub/.gitignore", "sub/a.txt"]


def test_special_files_are_skipped(tmp_path: Path) -> None:
    _tree(tmp_path, {"real.txt": "r"})
    os.symlink(tmp_path / "missing", tmp_path / "dangling")
    os.mkfifo(tmp_path / "pipe")
    assert _relpaths(tmp_path) == ["real.txt"]


def test_unchanged_file_is_stored_once(store: ArtifactStore, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", {"same.py": "shared", "copy.py": "shared", "b.py": "v1"})
    snapshots = SnapshotStore(store)
    first = snapshots.take(str(src))
    assert len(_blobs(store)) == 2  # same.py and copy.py share a blob
    (src / "b.py").write_text("v2")
    second = snapshots.take(str(src))
    assert first != second
    assert len(_blobs(store)) == 3  # only the changed file is new
    shared = hashlib.sha256(b"shared").hexdigest()
    assert f"snapshots/blobs/{shared[:2]}/{shared}" in _blobs(store)
    assert snapshots.manifest(first)["files"]["same.py"]["sha256"] == shared
    assert snapshots.manifest(second)["files"]["same.py"]["sha256"] == shared


def test_manifest_layout(store: ArtifactStore, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", {"a.txt": "hello"})
    os.chmod(src / "a.txt", 0o640)
    snapshot_id = SnapshotStore(store).take(str(src))
    raw = json.loads(store.get_bytes(f"snapshots/manifests/{snapshot_id}.json"))
    assert raw["files"] == {
        "a.txt": {"sha256": hashlib.sha256(b"hello").hexdigest(), "size": 5, "mode": 0o640}
    }
    assert isinstance(raw["created_time"], float)


def test_extract_reproduces_files_and_modes(store: ArtifactStore, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", {
        "run.sh": "#!/bin/sh\necho hi\n", "pkg/data.bin": os.urandom(3 * 1024 * 1024 + 7),
        "pkg/empty": b"", "readonly.cfg": "x=1",
    })  # fmt: skip
    os.chmod(src / "run.sh", 0o755)
    os.chmod(src / "readonly.cfg", 0o444)
    snapshots = SnapshotStore(store)
    snapshot_id = snapshots.take(str(src))
    dest = snapshots.extract(snapshot_id, str(tmp_path / "restored"))
    assert dest == str(tmp_path / "restored")
    assert _relpaths(Path(dest)) == _relpaths(src)
    for relpath in _relpaths(src):
        original, restored = src / relpath, Path(dest) / relpath
        assert restored.read_bytes() == original.read_bytes(), relpath
        assert stat.S_IMODE(restored.stat().st_mode) == stat.S_IMODE(original.stat().st_mode)


def test_single_file_snapshot(store: ArtifactStore, tmp_path: Path) -> None:
    script = _tree(tmp_path, {"train.py": "print(1)"}) / "train.py"
    snapshots = SnapshotStore(store)
    snapshot_id = snapshots.take(str(script))
    assert list(snapshots.manifest(snapshot_id)["files"]) == ["train.py"]


def test_to_zip(store: ArtifactStore, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", {"a.py": "alpha", "sub/b.py": "beta", ".git/HEAD": "x"})
    os.chmod(src / "a.py", 0o750)
    snapshots = SnapshotStore(store)
    zip_path = snapshots.to_zip(snapshots.take(str(src)), str(tmp_path / "out" / "snap.zip"))
    assert zip_path == str(tmp_path / "out" / "snap.zip")
    with zipfile.ZipFile(zip_path) as archive:
        assert archive.namelist() == ["a.py", "sub/b.py"]
        assert archive.read("sub/b.py") == b"beta"
        assert (archive.getinfo("a.py").external_attr >> 16) & 0o777 == 0o750
        assert archive.testzip() is None


def test_size_limit_error_lists_the_largest_files(store: ArtifactStore, tmp_path: Path) -> None:
    sizes = {f"f{index}.bin": index * 1000 for index in range(1, 8)}
    src = _tree(tmp_path / "src", {name: b"x" * size for name, size in sizes.items()})
    with pytest.raises(SnapshotError) as caught:
        SnapshotStore(store).take(str(src), max_bytes=10_000)
    message = str(caught.value)
    assert "28000 bytes" in message and "10000 bytes" in message
    assert "max_bytes" in message and "RUNHISTORY_SNAPSHOT_MAX_BYTES" in message
    assert ".amlignore" in message
    for name in ["f7.bin", "f6.bin", "f5.bin", "f4.bin", "f3.bin"]:
        assert name in message
    assert "f2.bin" not in message and "f1.bin" not in message
    assert message.index("f7.bin") < message.index("f3.bin")
    assert "6.8 KiB" in message  # f7.bin's size
    assert list(store.list_keys("")) == []  # nothing stored


def test_file_count_limit(store: ArtifactStore, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", {f"f{index}.txt": "x" for index in range(4)})
    with pytest.raises(SnapshotError, match=r"too many files: 4, over the limit of 3 .*max_files"):
        SnapshotStore(store).take(str(src), max_files=3)
    assert SnapshotStore(store).take(str(src), max_files=4)


def test_missing_source_or_snapshot(store: ArtifactStore, tmp_path: Path) -> None:
    snapshots = SnapshotStore(store)
    with pytest.raises(SnapshotError, match="no such file or folder"):
        snapshots.take(str(tmp_path / "nope"))
    with pytest.raises(NotFoundError, match="00000000-0000-4000-8000-000000000000"):
        snapshots.manifest("00000000-0000-4000-8000-000000000000")
    with pytest.raises(NotFoundError, match="not a snapshot id"):
        snapshots.extract("../../etc", str(tmp_path / "x"))


def test_file_name_that_could_not_be_restored_safely(store: ArtifactStore, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", {"..\\evil": "x"})  # a literal backslash in the file name
    with pytest.raises(SnapshotError, match="evil"):
        SnapshotStore(store).take(str(src))
