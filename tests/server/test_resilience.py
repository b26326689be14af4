"""A remote client keeps what it logs while the server is down, and sends it exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from runhistory import Experiment, Run, Workspace
from runhistory.errors import FlushTimeoutError
from support.services import ServerProcess

POINTS = 50_000


def _log(run: Run, steps: range) -> None:
    for step in steps:
        run.log("loss", float(step), step=step)


@pytest.mark.slow
def test_server_restart_while_logging_loses_and_duplicates_nothing(
    pg_server: ServerProcess,
) -> None:
    run = Experiment(Workspace(tracking_uri=pg_server.url), "restart").start_logging()
    _log(run, range(0, 20_000))  # the sender is busy with these when the server dies
    pg_server.process.send_signal(signal.SIGKILL)  # a crash: requests in flight are cut off
    pg_server.process.wait()
    _log(run, range(20_000, 40_000))  # logged while the server is down
    time.sleep(0.5)
    pg_server.restart()
    _log(run, range(40_000, POINTS))
    run.flush(timeout_seconds=120)
    history = run.get_metric_history("loss")
    assert len(history) == POINTS
    assert [point["step"] for point in history] == list(range(POINTS))
    assert [point["value"] for point in history] == [float(s) for s in range(POINTS)]
    run.complete()


def test_flush_reports_what_is_unsent_when_the_server_is_down(pg_server: ServerProcess) -> None:
    run = Experiment(Workspace(tracking_uri=pg_server.url), "down").start_logging()
    pg_server.stop()
    for step in range(1234):
        run.log("x", step, step=step)
    with pytest.raises(FlushTimeoutError) as caught:
        run.flush(timeout_seconds=1)
    assert caught.value.fields["pending"] == 1234
    assert "1234 metric values" in str(caught.value)
    assert "runhistory sync" in str(caught.value)
    pg_server.restart()
    run.flush(timeout_seconds=60)
    assert run.get_metrics("x")["x"] == list(range(1234))


_DYING_SCRIPT = """
import os, signal, sys
from runhistory import Experiment, Workspace
from runhistory.errors import FlushTimeoutError
run = Experiment(Workspace(tracking_uri=sys.argv[1]), "dying").start_logging()
run.log("x", -1, step=0)
run.flush()
print(run.id, flush=True)
sys.stdin.readline()  # the test stops the server now
for step in range(1, 10_001):
    run.log("x", step, step=step)
try:
    run.flush(timeout_seconds=2)
except FlushTimeoutError as exc:
    print("pending", exc.fields["pending"], flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.slow
def test_sync_sends_the_spool_of_a_dead_process(pg_server: ServerProcess, tmp_path: Path) -> None:
    script = tmp_path / "dying.py"
    script.write_text(textwrap.dedent(_DYING_SCRIPT), encoding="utf-8")
    child = subprocess.Popen([sys.executable, str(script), pg_server.url], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert child.stdout is not None and child.stdin is not None
    run_id = child.stdout.readline().strip()
    pg_server.stop()
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.stdout.readline().split() == ["pending", "10000"]
    assert child.wait(60) == -signal.SIGKILL
    spooled = list((Path(os.environ["RUNHISTORY_HOME"]) / "spool").glob("*/*/*.batch"))
    assert spooled, "the dead process left no spool"
    pg_server.restart()
    result = subprocess.run([_runhistory(), "sync"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "sent 10000 metric values" in result.stdout
    run = Run.get(Workspace(tracking_uri=pg_server.url), run_id)
    history = run.get_metric_history("x")
    assert [p["step"] for p in history] == list(range(10_001))
    again = subprocess.run([_runhistory(), "sync"], capture_output=True, text=True, timeout=60)
    assert "nothing to send" in again.stdout


def _runhistory() -> str:
    return str(Path(sys.executable).with_name("runhistory"))


def test_a_process_that_ended_normally_leaves_nothing_to_sync(pg_server: ServerProcess) -> None:
    script = (
        "import sys\nfrom runhistory import Experiment, Workspace\n"
        "run = Experiment(Workspace(tracking_uri=sys.argv[1]), 'normal').start_logging()\n"
        "for i in range(100): run.log('x', i)\n"
        "run.complete()\n"
    )
    subprocess.run([sys.executable, "-c", script, pg_server.url], check=True, timeout=60)
    result = subprocess.run([_runhistory(), "sync"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "nothing to send" in result.stdout
    leftovers = list((Path(os.environ["RUNHISTORY_HOME"]) / "spool").glob("*/*"))
    assert leftovers == []
