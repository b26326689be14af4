"""Interactive runs beat while their process lives, and stop beating once finished."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runhistory import Experiment, Workspace
from runhistory.client.backend import close_all


def _beat_of(workspace: Workspace, run_id: str) -> float | None:
    return workspace._connection.backend.get_run(run_id).heartbeat_time


def test_interactive_run_beats_until_it_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNHISTORY_HEARTBEAT_INTERVAL", "0.05")
    workspace = Workspace(path=str(tmp_path / "ws"))
    try:
        run = Experiment(workspace, "beats").start_logging(outputs=False)
        deadline = time.monotonic() + 10
        first = None
        while first is None and time.monotonic() < deadline:
            first = _beat_of(workspace, run.id)
            time.sleep(0.05)
        assert first is not None, "the run never beat"
        while _beat_of(workspace, run.id) == first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (_beat_of(workspace, run.id) or 0) > first  # it keeps beating
        run.complete()
        time.sleep(0.2)  # a beat that was under way lands
        stopped = _beat_of(workspace, run.id)
        time.sleep(0.3)
        assert _beat_of(workspace, run.id) == stopped  # no beat after the run finished
        assert run.get_status() == "Completed"
    finally:
        close_all()


def test_runs_of_a_process_share_one_beating_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    monkeypatch.setenv("RUNHISTORY_HEARTBEAT_INTERVAL", "0.05")
    workspace = Workspace(path=str(tmp_path / "ws"))
    try:
        experiment = Experiment(workspace, "many-beats")
        runs = [experiment.start_logging(outputs=False) for _ in range(30)]
        beaters = [t for t in threading.enumerate() if t.name == "runhistory-heartbeat"]
        assert len(beaters) == 1
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_beat_of(workspace, r.id) is None for r in runs):
            time.sleep(0.05)
        assert all(_beat_of(workspace, r.id) is not None for r in runs)  # every run beats
        for run in runs:
            run.complete()
    finally:
        close_all()
