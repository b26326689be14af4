"""The outputs folder is listed when a run ends, unless a ``stat`` shows it unchanged since it
was listed empty long enough after its last change: whatever appears in it is still uploaded."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from runhistory import Experiment, Workspace
from runhistory.sdk import run_state
from runhistory.sdk.run_state import _has_entries


def _settled(folder: Path) -> None:
    """Date the folder's last change an hour back (as if it had been made long ago)."""
    past = os.stat(folder).st_mtime - 3600
    os.utime(folder, (past, past))


def test_a_folder_seen_empty_is_listed_again_once_something_is_added(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_state, "_known_empty", None)
    folder = tmp_path / "outputs"
    folder.mkdir()
    _settled(folder)
    assert _has_entries(str(folder)) is False
    assert run_state._known_empty is not None  # remembered: settled, and empty
    (folder / "model.pkl").write_bytes(b"weights")
    assert _has_entries(str(folder)) is True
    (folder / "model.pkl").unlink()
    assert _has_entries(str(folder)) is False


def test_a_folder_changed_just_now_is_not_remembered_as_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_state, "_known_empty", None)
    folder = tmp_path / "outputs"
    folder.mkdir()
    just_now = time.time() + 60  # changed "now", whatever the machine's speed
    os.utime(folder, (just_now, just_now))
    assert _has_entries(str(folder)) is False
    assert run_state._known_empty is None  # a change in the same clock tick could follow


def test_whole_second_times_wait_longer_before_a_folder_is_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_state, "_known_empty", None)
    folder = tmp_path / "outputs"
    folder.mkdir()
    second = int(time.time()) - 1  # a second ago, as a file system keeping whole seconds
    os.utime(folder, ns=(second * 1_000_000_000, second * 1_000_000_000))
    assert _has_entries(str(folder)) is False
    assert run_state._known_empty is None  # 1 s is not long enough for a 2-second clock
    fine = time.time_ns() - 1_000_000_001  # a second ago, in nanoseconds
    os.utime(folder, ns=(fine, fine))
    assert _has_entries(str(folder)) is False
    assert run_state._known_empty is not None


def test_a_missing_folder_or_a_file_has_no_entries(tmp_path: Path) -> None:
    assert _has_entries(str(tmp_path / "missing")) is False
    (tmp_path / "file").write_text("x")
    assert _has_entries(str(tmp_path / "file")) is False


def test_a_file_written_into_a_settled_empty_outputs_folder_is_uploaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run_state, "_known_empty", None)
    experiment = Experiment(Workspace(tracking_uri=str(tmp_path / "ws")), "outputs")
    (tmp_path / "outputs").mkdir()
    _settled(tmp_path / "outputs")
    experiment.start_logging().complete()  # lists the folder empty, remembers it
    assert run_state._known_empty is not None
    run = experiment.start_logging()
    (tmp_path / "outputs" / "result.txt").write_text("42")
    run.complete()
    assert "outputs/result.txt" in run.get_file_names()
