"""Runs written behind on the embedded backend: one transaction per run, durable once
``complete()`` returns, visible to other processes without waiting, and no change lost when
another is refused."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from runhistory import Experiment, Run, Workspace
from runhistory.client import queue as queue_module
from runhistory.errors import InvalidMetricError, NotFoundError
from runhistory.tracking.entities import RunCreate, StatusChange


def _store(workspace: Workspace) -> Any:
    return workspace._connection.backend.unordered.store


def _traced(workspace: Workspace) -> list[str]:
    """Every statement SQLite receives from connections the store opens from now on."""
    statements: list[str] = []
    store = _store(workspace)
    store._held.close()  # the held connection reopens, traced
    store._engine.pool.dispose()

    def trace(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.set_trace_callback(statements.append)

    event.listen(store._engine, "connect", trace)
    return statements


def test_a_short_run_is_one_transaction(tmp_path: Path) -> None:
    workspace = Workspace(path=tmp_path / "ws")
    experiment = Experiment(workspace, "one-transaction")
    experiment.start_logging(outputs=False).complete()  # the environment is stored once
    statements = _traced(workspace)
    run = experiment.start_logging(outputs=False)
    run.add_properties({"lr": "0.1"})
    run.set_tags({"team": "vision"})
    for name in ("loss", "accuracy", "f1"):
        run.log(name, 0.5)
    run.complete()
    writes = [s for s in statements if s.startswith("BEGIN IMMEDIATE")]
    assert len(writes) == 1, statements
    stored = Run.get(workspace, run.id)
    assert stored.get_status() == "Completed"
    assert stored.get_properties() == {"lr": "0.1"}
    assert stored.get_tags() == {"team": "vision"}
    assert stored.get_metrics() == {"loss": 0.5, "accuracy": 0.5, "f1": 0.5}


KILLED_AFTER_COMPLETE = """
import os, signal, sys
from runhistory import Experiment, Workspace
experiment = Experiment(Workspace(path=sys.argv[1]), "killed")
run = experiment.start_logging(outputs=False)
run.tag("state", "done")
for i in range(1000):
    run.log("x", i)
run.complete()
print(run.id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_completed_run_survives_sigkill_right_after(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(KILLED_AFTER_COMPLETE), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(folder)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == -9, done.stderr
    run = Run.get(Workspace(path=folder), done.stdout.strip())
    assert run.get_status() == "Completed"
    assert run.get_tags() == {"state": "done"}
    assert run.get_metrics()["x"] == list(range(1000))


STILL_RUNNING = """
import sys, time
from runhistory import Experiment, Workspace
experiment = Experiment(Workspace(path=sys.argv[1]), "visible")
run = experiment.start_logging(outputs=False, display_name="in progress")
run.tag("stage", "training")
print(run.id, flush=True)
time.sleep(60)
"""


def test_another_process_sees_a_new_run_without_a_flush(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    script = tmp_path / "running.py"
    script.write_text(textwrap.dedent(STILL_RUNNING), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(script), str(folder)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        run_id = process.stdout.readline().strip()
        deadline = time.monotonic() + 10
        while True:
            try:
                run = Run.get(Workspace(path=folder), run_id)
                if run.get_tags() == {"stage": "training"}:
                    break
            except NotFoundError:
                pass
            assert time.monotonic() < deadline, "the run never reached the store"
            time.sleep(0.05)
        assert run.get_status() == "Running" and run.display_name == "in progress"
    finally:
        process.kill()
        process.wait()


def test_a_refused_creation_loses_no_other_change(tmp_path: Path) -> None:
    workspace = Workspace(path=tmp_path / "ws")
    experiment = Experiment(workspace, "refusals")
    queue = workspace._connection.queue
    now = time.time()
    queue.put_change(RunCreate("orphan", "no-such-experiment", "Running", now, start_time=now))
    queue.put_change(RunCreate("kept", experiment.id, "Running", now, start_time=now))
    key = queue.key("kept", "loss", "scalar")
    queue.put((key, None, 0, 0.25, None, now))
    queue.put_change(StatusChange("kept", "Completed", now))
    with pytest.raises(NotFoundError, match="no-such-experiment"):
        queue.flush()
    kept = Run.get(workspace, "kept")
    assert kept.get_status() == "Completed"
    assert kept.get_metrics() == {"loss": 0.25}
    with pytest.raises(NotFoundError):
        Run.get(workspace, "orphan")


def test_a_metric_of_another_kind_is_refused_alone(tmp_path: Path) -> None:
    workspace = Workspace(path=tmp_path / "ws")
    experiment = Experiment(workspace, "kinds")
    first = experiment.start_logging(outputs=False)
    first.log("acc", 0.5)
    first.flush()
    queue = workspace._connection.queue
    now = time.time()
    queue.put((queue.key(first.id, "acc", "list"), None, 0, 1.0, None, now))  # another kind
    second = experiment.start_logging(outputs=False)  # queued in the same batch
    second.tag("batch", "same")
    second.complete()  # another run's refusal is never raised here
    with pytest.raises(InvalidMetricError, match="'acc'"):
        first.flush()  # but by the run that owned the value
    assert first.get_metrics() == {"acc": 0.5}
    stored = Run.get(workspace, second.id)
    assert stored.get_status() == "Completed" and stored.get_tags() == {"batch": "same"}


def test_a_process_creating_many_runs_keeps_its_metric_key_table_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_module, "RETAINED_RUNS", 4)
    workspace = Workspace(path=tmp_path / "ws")
    experiment = Experiment(workspace, "many-runs")
    queue = workspace._connection.queue
    sizes = []
    for i in range(40):
        run = experiment.start_logging(outputs=False)
        for name in ("loss", "accuracy", "f1"):
            run.log(name, i)
        run.complete()
        sizes.append(len(queue._key_info))
    assert max(sizes) <= 3 * (4 + 1)  # the retained runs' keys and the live run's
    assert len(queue._keys) == len(queue._key_info) and len(queue._run_keys) <= 4 + 1
    assert Run.get(workspace, run.id).get_metrics() == {"loss": 39, "accuracy": 39, "f1": 39}


def test_a_run_object_logging_after_its_keys_were_dropped_stores_its_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_module, "RETAINED_RUNS", 1)
    workspace = Workspace(path=tmp_path / "ws")
    experiment = Experiment(workspace, "late-values")
    first = experiment.start_logging(outputs=False)
    other = Run.get(workspace, first.id)  # a second object of the same run
    other.log("late", 1.0)
    first.log("late", 2.0)
    first.complete()
    for _ in range(3):  # the first run's keys are dropped meanwhile
        experiment.start_logging(outputs=False).complete()
    assert first.id not in workspace._connection.queue._run_keys
    other.log("late", 3.0)  # its cached key was emptied with the run's: a new key is made
    other.flush()
    assert Run.get(workspace, first.id).get_metrics()["late"] == [1.0, 2.0, 3.0]
