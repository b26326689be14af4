"""The link rule of folder walks: inside links followed, outside links, dangling links and
loops skipped with a reason, special files skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runhistory.artifacts import open_artifact_store
from runhistory.artifacts.local_tree import walk_tree
from runhistory.artifacts.snapshot import SnapshotStore, collect_tree


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "outputs"
    (root / "checkpoints").mkdir(parents=True)
    (root / "checkpoints" / "epoch2.ckpt").write_text("weights")
    (root / "notes.txt").write_text("notes")
    (tmp_path / "secret.txt").write_text("do not leak")
    return root


def test_a_link_inside_the_folder_is_stored_as_what_it_points_to(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    os.symlink("checkpoints/epoch2.ckpt", root / "latest.ckpt")
    os.symlink("checkpoints", root / "best")
    tree = walk_tree(str(root))
    names = [relpath for relpath, _path in tree.files]
    assert names == ["best/epoch2.ckpt", "checkpoints/epoch2.ckpt", "latest.ckpt", "notes.txt"]
    read = {relpath: Path(path).read_text() for relpath, path in tree.files}
    assert read["latest.ckpt"] == "weights" and read["best/epoch2.ckpt"] == "weights"
    assert tree.skipped == []


def test_a_link_pointing_outside_the_folder_is_skipped(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    os.symlink(tmp_path / "secret.txt", root / "leak.txt")
    os.symlink("..", root / "parent")
    os.symlink("/etc", root / "etc")
    tree = walk_tree(str(root))
    assert [relpath for relpath, _ in tree.files] == ["checkpoints/epoch2.ckpt", "notes.txt"]
    reasons = {skipped.relpath: skipped.reason for skipped in tree.skipped}
    assert set(reasons) == {"leak.txt", "parent", "etc"}
    assert all("outside the folder" in reason for reason in reasons.values())


def test_dangling_links_and_loops_are_skipped_with_their_reason(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    os.symlink("checkpoints/epoch9.ckpt", root / "latest.ckpt")
    os.symlink("..", root / "checkpoints" / "up")
    os.symlink(".", root / "self")
    os.mkfifo(root / "pipe")
    tree = walk_tree(str(root))
    assert [relpath for relpath, _ in tree.files] == ["checkpoints/epoch2.ckpt", "notes.txt"]
    reasons = {skipped.relpath: skipped.reason for skipped in tree.skipped}
    assert reasons["latest.ckpt"] == "a link to 'checkpoints/epoch9.ckpt', which does not exist"
    assert "a loop" in reasons["checkpoints/up"] and "a loop" in reasons["self"]
    assert "not a regular file" in reasons["pipe"]
    line = tree.skipped[0].warning("outputs")
    assert line.startswith("skipped outputs/checkpoints/up: ")


def test_links_between_sibling_folders_end(tmp_path: Path) -> None:
    root = tmp_path / "src"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    (root / "a" / "x.txt").write_text("x")
    os.symlink("../b", root / "a" / "to_b")
    os.symlink("../a", root / "b" / "to_a")
    tree = walk_tree(str(root))
    assert [relpath for relpath, _ in tree.files] == ["a/x.txt", "b/to_a/x.txt"]
    assert {s.relpath for s in tree.skipped} == {"a/to_b/to_a", "b/to_a/to_b"}


def test_a_folder_given_through_a_link_is_walked(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    os.symlink(root, tmp_path / "alias")
    assert len(walk_tree(str(tmp_path / "alias")).files) == 2


def test_snapshots_follow_the_same_rule_and_warn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = _folder(tmp_path)
    (root / ".amlignore").write_text("ignored/\n")
    (root / "ignored").mkdir()
    (root / "ignored" / "big.bin").write_text("b")
    os.symlink(tmp_path / "secret.txt", root / "leak.txt")
    os.symlink("checkpoints/epoch2.ckpt", root / "latest.ckpt")
    os.symlink("missing.py", root / "gone.py")
    assert [r for r, _ in collect_tree(str(root)).files] == [
        ".amlignore", "checkpoints/epoch2.ckpt", "latest.ckpt", "notes.txt",
    ]  # fmt: skip
    snapshots = SnapshotStore(open_artifact_store(str(tmp_path / "artifacts")))
    with caplog.at_level("WARNING", logger="runhistory.files"):
        snapshot_id = snapshots.take(str(root))
    files = snapshots.manifest(snapshot_id)["files"]
    assert "leak.txt" not in files and "gone.py" not in files
    assert files["latest.ckpt"]["size"] == len("weights")
    logged = caplog.text
    assert "skipped leak.txt: a link to" in logged and "outside the folder" in logged
    assert "skipped gone.py: a link to 'missing.py', which does not exist" in logged
