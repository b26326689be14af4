"""Concurrent writers: many processes on one SQLite file, many threads on one store."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import runhistory.store.sql as sql_package
from runhistory.store.sql import SqlTrackingStore, open_store
from runhistory.tracking.entities import VTYPE_FLOAT, MetricWrite, RunInfo
from support import writes

SRC_DIR = Path(sql_package.__file__).resolve().parents[3]
PROCESSES = 8
POINTS = 10_000
BATCH = 500

WRITER = """
import sys, time
from runhistory.store.sql import SqlTrackingStore, open_store
from runhistory.tracking.entities import VTYPE_FLOAT, MetricWrite, RunCreate, WriteBatch

uri, experiment_id, worker, points, batch, start_at = sys.argv[1:7]
points, batch = int(points), int(batch)
store = open_store(uri)
time.sleep(max(0.0, float(start_at) - time.time()))  # start writing together
run_id = f"run-{worker}"
store.write_changes(WriteBatch(creates=[RunCreate(run_id, experiment_id, "Running", time.time())]))
for start in range(0, points, batch):
    values = [(i, VTYPE_FLOAT, float(i), None, time.time()) for i in range(start, start + batch)]
    shared = [(None, VTYPE_FLOAT, float(worker), None, time.time())]
    writes = [MetricWrite("loss", "scalar", values), MetricWrite("seen", "list", shared)]
    one = WriteBatch(metrics={run_id: writes}, batch_ids={run_id: f"{worker}-{start}"})
    assert run_id not in store.write_changes(one).repeated
store.close()
"""


def _spawn(uri: str, experiment_id: str, worker: int, start_at: float) -> subprocess.Popen[str]:
    args = [uri, experiment_id, str(worker), str(POINTS), str(BATCH), str(start_at)]
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, *args],
        env={**os.environ, "PYTHONPATH": str(SRC_DIR)},
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_eight_processes_write_one_sqlite_file(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(uri)
    experiment = store.create_experiment("parallel")
    start_at = time.time() + 5  # every writer starts logging at this moment
    processes = [
        _spawn(uri, experiment.experiment_id, worker, start_at) for worker in range(PROCESSES)
    ]
    errors = [p.communicate(timeout=240)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * PROCESSES, errors

    total = 0
    numbers = []
    for worker in range(PROCESSES):
        run = store.get_run(f"run-{worker}")
        numbers.append(run.number)
        points = store.get_metric_points(run.run_id, "loss")
        assert [p.seq for p in points] == list(range(POINTS))
        assert sorted(p.step for p in points) == list(range(POINTS))
        assert len(store.get_metric_points(run.run_id, "seen")) == POINTS // BATCH
        total += len(points)
    assert total == PROCESSES * POINTS
    assert sorted(numbers) == list(range(1, PROCESSES + 1))
    store.close()


def test_threads_share_one_store(store: SqlTrackingStore, make_run: Callable[..., RunInfo]) -> None:
    """Concurrent appends to the same metrics, named in opposite orders, lose nothing."""
    make_run("r")

    def write(names: list[str]) -> None:
        for i in range(25):
            points = [(None, VTYPE_FLOAT, float(i), None, 1.0)] * 4
            writes.log_metrics(store, "r", [MetricWrite(name, "scalar", points) for name in names])

    threads = [
        threading.Thread(target=write, args=(names,))
        for names in (["a", "b", "c"], ["c", "b", "a"], ["b", "a", "c"], ["a", "c", "b"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in "abc":
        assert [p.seq for p in store.get_metric_points("r", name)] == list(range(4 * 25 * 4))
