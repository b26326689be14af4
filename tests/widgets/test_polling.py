"""The kernel-side polling thread: it follows a live run, stops when the run ends, leaves no
thread behind, reports a run that cannot be read, and stops at once when asked."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from runhistory import Experiment, Workspace
from runhistory.widgets.collect import RunCollector
from runhistory.widgets.poller import THREAD_PREFIX, Poller


class Recorder:
    """Collects what the poller publishes and reports."""

    def __init__(self) -> None:
        self.states: list[dict[str, Any]] = []
        self.reports: list[str] = []
        self.done = threading.Event()


def _poller(collector: RunCollector, recorder: Recorder, name: str) -> Poller:
    return Poller(
        name,
        collect=lambda: collector.collect(500),
        publish=recorder.states.append,
        report=recorder.reports.append,
        done=recorder.done.set,
        interval=0.05,
    )


def _widget_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]


def test_polling_follows_the_run_and_stops_when_it_ends(tmp_path: Path) -> None:
    run = Experiment(Workspace(path=tmp_path / "ws"), "polling").start_logging()
    recorder = Recorder()
    poller = _poller(RunCollector(run), recorder, run.id)
    poller.start()
    for step in range(20):
        run.log("loss", 1.0 / (step + 1), step=step)
        time.sleep(0.01)
    time.sleep(0.2)
    assert poller.running and _widget_threads() == [f"{THREAD_PREFIX}-{run.id}"]
    run.complete()
    assert poller.join(timeout=10), "the poller did not stop when the run ended"
    assert recorder.done.is_set() and _widget_threads() == []
    final = recorder.states[-1]
    assert final["run"]["status"] == "Completed"
    assert final["series"][0]["count"] == 20
    assert any(s["run"]["status"] == "Running" for s in recorder.states)


def test_polling_waits_for_live_children(tmp_path: Path) -> None:
    parent = Experiment(Workspace(path=tmp_path / "ws"), "polling").start_logging()
    child = parent.child_run()
    recorder = Recorder()
    poller = _poller(RunCollector(parent), recorder, parent.id)
    poller.start()
    parent.complete()
    time.sleep(0.3)
    assert poller.running  # the child may still log
    child.log("accuracy", 0.9)
    child.complete()
    assert poller.join(timeout=10)
    assert recorder.states[-1]["children"][0]["status"] == "Completed"


def test_a_run_that_cannot_be_read_is_reported_and_stop_ends_the_thread(tmp_path: Path) -> None:
    workspace = Workspace(path=tmp_path / "ws")
    run = Experiment(workspace, "polling").start_logging()
    collector = RunCollector(run)
    collector.collect(500)
    workspace._connection.backend.delete_run(run.id)
    recorder = Recorder()
    poller = _poller(collector, recorder, run.id)
    poller.start()
    deadline = time.monotonic() + 10
    while not recorder.reports and time.monotonic() < deadline:
        time.sleep(0.02)
    assert recorder.reports[0].startswith("cannot refresh: NotFoundError")
    started = time.monotonic()
    poller.stop()
    assert time.monotonic() - started < 2 and not poller.running
    assert recorder.done.is_set() and _widget_threads() == []
