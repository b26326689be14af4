"""Fixtures for submitting real scripts to the local target."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runhistory import Experiment, Run, Workspace
from runhistory.tracking import status as st


@pytest.fixture(autouse=True)
def fast_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short intervals so jobs report quickly (inherited by the supervisors)."""
    monkeypatch.setenv("RUNHISTORY_LOG_UPLOAD_INTERVAL", "0.2")
    monkeypatch.setenv("RUNHISTORY_HEARTBEAT_INTERVAL", "1")
    monkeypatch.setenv("RUNHISTORY_CANCEL_GRACE_SECONDS", "3")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A fresh local workspace."""
    return Workspace(path=tmp_path / "ws")


@pytest.fixture
def exp(ws: Workspace) -> Experiment:
    """An experiment in the fresh workspace."""
    return Experiment(ws, "submit-tests")


@pytest.fixture
def source(tmp_path: Path) -> Callable[..., Path]:
    """``source(name="train.py", text=..., **more_files)`` writes a source folder."""

    def write(files: dict[str, str], folder: str = "src") -> Path:
        root = tmp_path / folder
        for relpath, text in files.items():
            path = root / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return root

    return write


def wait_for(run: Run, statuses: tuple[str, ...], timeout: float = 30) -> str:
    """Poll until the run's status is one of ``statuses``; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        status = run.get_status()
        if status in statuses:
            return status
        if st.is_terminal(status) or time.monotonic() > deadline:
            raise AssertionError(
                f"run {run.id} is {status}, waited for {statuses}: {run.get_details().get('error')}"
            )
        time.sleep(0.05)


@pytest.fixture(name="wait_for")
def wait_for_fixture() -> Callable[..., str]:
    """The :func:`wait_for` helper, as a fixture."""
    return wait_for


@pytest.fixture
def cleanup_runs() -> Iterator[list[Run]]:
    """Runs appended here are cancelled at teardown if still active."""
    runs: list[Run] = []
    yield runs
    for run in runs:
        if not st.is_terminal(run.get_status()):
            run.cancel()
            try:
                wait_for(run, st.TERMINAL_STATUSES, timeout=15)
            except AssertionError:
                pass
