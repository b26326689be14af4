"""Durability of logged metrics across real processes sharing one local workspace.

(a) eight processes log at once into one SQLite workspace, (b) a flushed value survives SIGKILL,
(c) values still queued when a script ends normally are stored by the exit hook.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from runhistory import Experiment, Run, Workspace
from support.processes import killed_after_first_line

POINTS = 10_000
OWN_RUN_WORKERS = 4
SHARED_RUN_WORKERS = 4

# argv: workspace folder, worker number, run id to join ("-" for a run of its own)
WORKER = """
import sys
from runhistory import Experiment, Run, Workspace

folder, worker, run_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]
workspace = Workspace(path=folder)
experiment = Experiment(workspace, "durability")
run = experiment.start_logging(outputs=False) if run_id == "-" else Run(experiment, run_id)
for i in range({points}):
    run.log("shared" if run_id != "-" else "own", worker * 1_000_000 + i)
    if i % 1000 == 999:
        run.flush()  # many small transactions: the most contention
if run_id == "-":
    run.complete()
else:
    run.flush()
print(run.id)
"""


def _script(tmp_path: Path, name: str, code: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return path


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.slow
def test_eight_processes_log_into_one_workspace(tmp_path: Path) -> None:
    folder = str(tmp_path / "ws")
    experiment = Experiment(Workspace(path=folder), "durability")
    shared = experiment.start_logging(outputs=False)
    script = _script(tmp_path, "worker.py", WORKER.format(points=POINTS))
    workers = [_start(str(script), folder, str(w), "-") for w in range(OWN_RUN_WORKERS)]
    workers += [
        _start(str(script), folder, str(OWN_RUN_WORKERS + w), shared.id)
        for w in range(SHARED_RUN_WORKERS)
    ]
    started = time.perf_counter()
    outputs = [w.communicate(timeout=240) for w in workers]
    elapsed = time.perf_counter() - started
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
        assert "database is locked" not in err, err
        assert out.strip(), err
    own_ids = [out.strip() for out, _ in outputs[:OWN_RUN_WORKERS]]
    assert len(set(own_ids)) == OWN_RUN_WORKERS
    for number, run_id in enumerate(own_ids):
        values = Run(experiment, run_id).get_metrics()["own"]
        assert values == [number * 1_000_000 + i for i in range(POINTS)]
    values = [p["value"] for p in shared.get_metric_history("shared")]
    assert len(values) == SHARED_RUN_WORKERS * POINTS
    for number in range(OWN_RUN_WORKERS, OWN_RUN_WORKERS + SHARED_RUN_WORKERS):
        mine = [v for v in values if v // 1_000_000 == number]
        assert mine == [number * 1_000_000 + i for i in range(POINTS)]  # each in its order
    total = (OWN_RUN_WORKERS + SHARED_RUN_WORKERS) * POINTS
    print(f"{total} points from 8 processes stored in {elapsed:.1f} s")


FLUSH_THEN_SLEEP = """
import sys, time
from runhistory import Experiment, Workspace

run = Experiment(Workspace(path=sys.argv[1]), "killed").start_logging(outputs=False)
for i in range(5000):
    run.log("v", i * 0.5)
run.flush()
print("FLUSHED", run.id, flush=True)
time.sleep(120)
"""


def test_flushed_values_survive_sigkill(tmp_path: Path) -> None:
    folder = str(tmp_path / "ws")
    script = _script(tmp_path, "killed.py", FLUSH_THEN_SLEEP)
    line, code = killed_after_first_line(script, folder)
    assert code == -signal.SIGKILL
    word, run_id = line.split()
    assert word == "FLUSHED"
    run = Run.get(Workspace(path=folder), run_id)
    assert run.get_metrics()["v"] == [i * 0.5 for i in range(5000)]
    history = run.get_metric_history("v")
    assert [p["value"] for p in history] == [i * 0.5 for i in range(5000)]


EXIT_WITHOUT_FLUSH = """
import sys
from runhistory import Experiment, Workspace

run = Experiment(Workspace(path=sys.argv[1]), "no-flush").start_logging(outputs=False)
for i in range(5000):
    run.log("v", i)
run.log("last", "written at exit")
print(run.id)
"""


def test_values_are_stored_at_normal_exit_without_flush(tmp_path: Path) -> None:
    folder = str(tmp_path / "ws")
    script = _script(tmp_path, "no_flush.py", EXIT_WITHOUT_FLUSH)
    result = subprocess.run(
        [sys.executable, str(script), folder],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    run = Run.get(Workspace(path=folder), result.stdout.strip())
    assert run.get_metrics() == {"v": list(range(5000)), "last": "written at exit"}


CREATE_RUNS = """
import sys
from runhistory import Experiment, Workspace

experiment = Experiment(Workspace(path=sys.argv[1]), "many-writers")
for i in range(int(sys.argv[3])):
    run = experiment.start_logging(outputs=False)
    run.tag("worker", sys.argv[2])
    run.add_properties({"i": str(i)})
    run.log("i", i)
    run.complete()
"""


@pytest.mark.slow
def test_four_processes_create_runs_in_one_workspace(tmp_path: Path) -> None:
    """Runs written behind by several processes at once: all stored, numbered 1..N once each."""
    folder = str(tmp_path / "ws")
    experiment = Experiment(Workspace(path=folder), "many-writers")
    script = _script(tmp_path, "create.py", CREATE_RUNS)
    per_worker = 150
    workers = [_start(str(script), folder, str(w), str(per_worker)) for w in range(4)]
    for worker in workers:
        _, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
    runs = list(Run.list(experiment))
    assert sorted(r.number for r in runs) == list(range(1, 4 * per_worker + 1))
    assert {r.get_status() for r in runs[::37]} == {"Completed"}
    for worker in range(4):
        mine = experiment.get_runs(tags={"worker": str(worker)})
        assert sorted(int(r.get_properties()["i"]) for r in mine) == list(range(per_worker))
