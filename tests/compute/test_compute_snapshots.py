"""Snapshots of submitted source folders: ignore files, dedup, restore, limits, git facts."""

from __future__ import annotations

import os
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from runhistory import Experiment, ScriptRunConfig, Workspace
from runhistory.errors import ConflictError, SnapshotError
from runhistory.tracking import status as st

LIST_CWD = """
    import os
    names = sorted(
        os.path.relpath(os.path.join(d, f)) for d, _, fs in os.walk(".") for f in fs
    )
    print("FILES", ",".join(names))
"""


def _blob_count(ws: Workspace, tmp_path: Path) -> int:
    blobs = tmp_path / "ws" / "artifacts" / "snapshots" / "blobs"
    return sum(len(files) for _, _, files in os.walk(blobs))


def test_amlignore_wins_over_gitignore_in_the_job_copy(
    exp: Experiment, source: Callable[..., Path]
) -> None:
    folder = source({
        "list.py": LIST_CWD,
        ".gitignore": "data/\n",
        ".amlignore": "*.ckpt\n",
        "data/train.csv": "a,b\n",
        "big.ckpt": "weights",
        "keep/me.txt": "kept",
    })  # fmt: skip
    run = exp.submit(ScriptRunConfig(folder, "list.py"))
    run.wait_for_completion()
    log = run.get_details_with_logs()["logFiles"]["logs/std_log.txt"]
    listed = log.split("FILES ", 1)[1].split()[0].split(",")
    # .amlignore decides alone: data/ (only in .gitignore) is taken, *.ckpt is not
    assert "data/train.csv" in listed and "big.ckpt" not in listed
    assert "keep/me.txt" in listed and "list.py" in listed


def test_gitignore_applies_when_there_is_no_amlignore(
    exp: Experiment, source: Callable[..., Path], tmp_path: Path
) -> None:
    folder = source({"a.py": "1", ".gitignore": "*.log\nbuild/\n", "x.log": "l", "build/o": "o"})
    run = exp.start_logging(outputs=False)
    run.take_snapshot(str(folder))
    with zipfile.ZipFile(run.restore_snapshot(path=str(tmp_path / "out"))) as archive:
        assert sorted(archive.namelist()) == [".gitignore", "a.py"]
    run.complete()


def test_unchanged_file_shared_by_two_snapshots_is_stored_once(
    exp: Experiment, ws: Workspace, source: Callable[..., Path], tmp_path: Path
) -> None:
    folder = source({"train.py": "print('v1')\n", "data.bin": "x" * 10_000})
    first = exp.start_logging(outputs=False, snapshot_directory=str(folder))
    assert _blob_count(ws, tmp_path) == 2
    (folder / "train.py").write_text("print('v2')\n")
    second = exp.start_logging(outputs=False, snapshot_directory=str(folder))
    assert _blob_count(ws, tmp_path) == 3  # only the changed file is new
    assert first.get_snapshot_id() != second.get_snapshot_id()
    for run in (first, second):
        run.complete()


def test_restore_snapshot_reproduces_the_folder_byte_for_byte(
    exp: Experiment, source: Callable[..., Path], tmp_path: Path
) -> None:
    folder = source({"train.py": "print('hi')\n", "pkg/util.py": "X = 1\n"})
    (folder / "blob.bin").write_bytes(bytes(range(256)) * 40)
    (folder / "run.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(folder / "run.sh", 0o755)
    run = exp.submit(ScriptRunConfig(folder, "train.py"))
    run.wait_for_completion()
    archive_path = run.restore_snapshot(path=str(tmp_path / "restored"))
    assert archive_path.endswith(f"{run.get_snapshot_id()}.zip")
    with zipfile.ZipFile(archive_path) as archive:
        names = sorted(archive.namelist())
        assert names == ["blob.bin", "pkg/util.py", "run.sh", "train.py"]
        for name in names:
            assert archive.read(name) == (folder / name).read_bytes()
        assert (archive.getinfo("run.sh").external_attr >> 16) & 0o777 == 0o755
    assert run.get_details()["properties"]["ContentSnapshotId"] == run.get_snapshot_id()


def test_a_run_has_at_most_one_snapshot(exp: Experiment, source: Callable[..., Path]) -> None:
    folder = source({"a.py": "1"})
    run = exp.start_logging(outputs=False, snapshot_directory=str(folder))
    with pytest.raises(ConflictError, match="at most one"):
        run.take_snapshot(str(folder))
    run.complete()


def test_snapshot_over_the_limit_is_refused_naming_the_largest_files(
    exp: Experiment, source: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNHISTORY_SNAPSHOT_MAX_BYTES", "1000")
    folder = source({"train.py": "1", "huge.csv": "y" * 5000})
    with pytest.raises(SnapshotError, match=r"huge\.csv") as caught:
        exp.submit(ScriptRunConfig(folder, "train.py"))
    assert "RUNHISTORY_SNAPSHOT_MAX_BYTES" in str(caught.value)
    [run] = exp.get_runs()
    assert run.get_status() == st.FAILED  # the refused submission is not left Queued


def _git(folder: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    done = subprocess.run(
        ["git", "-C", str(folder), *args], env=env, check=True, stdout=subprocess.PIPE, text=True
    )
    return done.stdout.strip()


def test_git_facts_are_recorded_as_properties(exp: Experiment, source: Callable[..., Path]) -> None:
    folder = source({"train.py": "print('git')\n"})
    _git(folder, "init", "-q", "-b", "main")
    _git(folder, "remote", "add", "origin", "https://example.invalid/team/repo.git")
    _git(folder, "add", ".")
    _git(folder, "commit", "-q", "-m", "first")
    commit = _git(folder, "rev-parse", "HEAD")
    clean = exp.submit(ScriptRunConfig(folder, "train.py"))
    props = clean.get_properties()
    assert props["azureml.git.repository_uri"] == "https://example.invalid/team/repo.git"
    assert props["mlflow.source.git.repoURL"] == "https://example.invalid/team/repo.git"
    assert props["azureml.git.branch"] == props["mlflow.source.git.branch"] == "main"
    assert props["azureml.git.commit"] == props["mlflow.source.git.commit"] == commit
    assert props["azureml.git.dirty"] == "False"
    (folder / "train.py").write_text("print('changed')\n")
    dirty = exp.start_logging(outputs=False, snapshot_directory=str(folder))
    assert dirty.get_properties()["azureml.git.dirty"] == "True"
    dirty.complete()
    clean.wait_for_completion()


def test_no_git_properties_outside_a_repository(
    exp: Experiment, source: Callable[..., Path]
) -> None:
    folder = source({"a.py": "1"})
    run = exp.start_logging(outputs=False, snapshot_directory=str(folder))
    assert not any(k.startswith(("azureml.git", "mlflow.source")) for k in run.get_properties())
    run.complete()
