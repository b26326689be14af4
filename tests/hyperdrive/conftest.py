"""Fixtures for real sweeps: a fresh workspace, short intervals, tiny deterministic scripts."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runhistory import Experiment, Run, Workspace
from runhistory.tracking import status as st

pytest.importorskip("optuna", reason="the [sweep] extra is not installed")

# Logs ``score`` ``--steps`` times, ``--pause`` seconds apart: ``--a`` plus a bonus per ``--b``.
SCORE_SCRIPT = """
    import argparse
    import time

    from azureml.core import Run

    parser = argparse.ArgumentParser()
    parser.add_argument("--a", type=float, default=0)
    parser.add_argument("--b", default="p")
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--pause", type=float, default=0)
    args = parser.parse_args()
    run = Run.get_context()
    for step in range(args.steps):
        run.log("score", args.a * 10 + "pqr".index(args.b), step=step)
        run.flush()
        time.sleep(args.pause)
"""


@pytest.fixture(autouse=True)
def fast_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short intervals, and enough local slots that the sweep is what limits concurrency."""
    monkeypatch.setenv("RUNHISTORY_LOG_UPLOAD_INTERVAL", "0.2")
    monkeypatch.setenv("RUNHISTORY_HEARTBEAT_INTERVAL", "1")
    monkeypatch.setenv("RUNHISTORY_CANCEL_GRACE_SECONDS", "3")
    monkeypatch.setenv("RUNHISTORY_LOCAL_MAX_JOBS", "6")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A fresh local workspace."""
    return Workspace(path=tmp_path / "ws")


@pytest.fixture
def exp(ws: Workspace) -> Experiment:
    """An experiment in the fresh workspace."""
    return Experiment(ws, "sweep-tests")


@pytest.fixture
def score_source(tmp_path: Path) -> Path:
    """A source folder holding ``train.py`` (:data:`SCORE_SCRIPT`)."""
    root = tmp_path / "src"
    root.mkdir()
    (root / "train.py").write_text(textwrap.dedent(SCORE_SCRIPT).lstrip(), encoding="utf-8")
    return root


def wait_terminal(run: Run, timeout: float = 120) -> str:
    """Poll until the run has finished; returns its status."""
    deadline = time.monotonic() + timeout
    while True:
        status = run.get_status()
        if st.is_terminal(status):
            if status != st.COMPLETED:  # shown when the test fails
                print(f"{run.id} ended {status}: {run.get_details().get('error')}")
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run.id} is still {status} after {timeout}s")
        time.sleep(0.2)


@pytest.fixture
def cleanup_runs() -> Iterator[list[Run]]:
    """Runs appended here are canceled at teardown if still active."""
    runs: list[Run] = []
    yield runs
    for run in runs:
        if not st.is_terminal(run.get_status()):
            run.cancel()


def most_at_once(children: list[Run]) -> int:
    """The largest number of children whose stored start-end intervals overlap."""
    events: list[tuple[float, int]] = []
    for child in children:
        details = child.get_details()
        if "startTimeUtc" not in details:
            continue
        start, end = _epoch(details["startTimeUtc"]), _epoch(details["endTimeUtc"])
        events += [(start, 1), (end, -1)]
    running = peak = 0
    for _, change in sorted(events, key=lambda e: (e[0], e[1])):
        running += change
        peak = max(peak, running)
    return peak


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.fixture(name="wait_terminal")
def wait_terminal_fixture() -> Callable[..., str]:
    """The :func:`wait_terminal` helper, as a fixture."""
    return wait_terminal


@pytest.fixture(name="most_at_once")
def most_at_once_fixture() -> Callable[[list[Run]], int]:
    """The :func:`most_at_once` helper, as a fixture."""
    return most_at_once
