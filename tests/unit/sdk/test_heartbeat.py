"""Interactive runs beat while their process lives, and stop beating once finished."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runhistory import Experiment, Workspace
from runhistory.client.backend import close_all


def _beat_of(workspace: Workspace, run_id: str) -> float | None:
    return workspace._connection.backend.get_run(run_id).heartbeat_time


def _next_beat(
    workspace: Workspace, run_id: str, after: float | None, deadline: float
) -> float | None:
    """The run's heartbeat once it differs from ``after`` (``None``: its first one), or what
    it still is at ``deadline``."""
    beat = _beat_of(workspace, run_id)
    while beat == after and time.monotonic() < deadline:
        time.sleep(0.05)
        beat = _beat_of(workspace, run_id)
    return beat


def test_interactive_run_beats_until_it_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNHISTORY_HEARTBEAT_INTERVAL", "0.05")
    workspace = Workspace(path=str(tmp_path / "ws"))
    try:
        run = Experiment(workspace, "beats").start_logging(outputs=False)
        deadline = time.monotonic() + 10
        first = _next_beat(workspace, run.id, None, deadline)
        assert first is not None, "the run never beat"
        assert (_next_beat(workspace, run.id, first, deadline) or 0) > first  # it keeps beating
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


def test_a_beat_due_before_the_thread_wakes_is_beaten_on_time() -> None:
    """Adding a run wakes the beating thread only when the new beat is due sooner than the
    thread's own wake-up (or no run was left): a beat is never late for want of a wake-up."""
    import threading

    from runhistory.sdk.heartbeat import Heartbeat, _Beater

    beater = _Beater()
    beaten: dict[str, threading.Event] = {n: threading.Event() for n in ("slow", "fast", "late")}

    def heartbeat(name: str, interval: float) -> Heartbeat:
        return Heartbeat(name, beaten[name].set, interval, lambda: True)

    slow = heartbeat("slow", 60.0)
    beater.add(slow)  # the thread now sleeps for about a minute
    time.sleep(0.2)
    fast = heartbeat("fast", 0.1)
    beater.add(fast)  # due sooner: the thread must be woken
    assert beaten["fast"].wait(5), "a beat due before the thread's wake-up was missed"
    beater.remove(slow)
    assert not beaten["slow"].is_set()
    late = heartbeat("late", 0.1)
    beater.add(late)  # beside "fast", added while the thread sleeps until fast's next beat
    assert beaten["late"].wait(5)
    fast.stop()
    late.stop()  # the thread ends a minute after its last run


def test_a_finished_run_is_freed_when_dropped_without_the_garbage_collector(
    tmp_path: Path,
) -> None:
    import gc
    import weakref

    workspace = Workspace(path=str(tmp_path / "ws"))
    enabled = gc.isenabled()
    gc.disable()  # only reference counting frees it
    try:
        experiment = Experiment(workspace, "freed-runs")
        run = experiment.start_logging(outputs=False)
        run.add_properties({"lr": "0.1"})
        run.set_tags({"team": "vision"})
        run.log("loss", 0.5)
        run.complete()
        gone = weakref.ref(run)
        del run
        assert gone() is None
    finally:
        if enabled:
            gc.enable()
        close_all()


def test_a_run_dropped_while_running_keeps_beating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNHISTORY_HEARTBEAT_INTERVAL", "0.05")
    workspace = Workspace(path=str(tmp_path / "ws"))
    try:
        run_id = Experiment(workspace, "dropped-beats").start_logging(outputs=False).id
        deadline = time.monotonic() + 10
        first = _next_beat(workspace, run_id, None, deadline)
        assert first is not None and (_next_beat(workspace, run_id, first, deadline) or 0) > first
    finally:
        close_all()
