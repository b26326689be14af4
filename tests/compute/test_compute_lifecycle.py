"""Cancel, heartbeats, lost supervisors, the local queue and live log streaming."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from runhistory import Experiment, Run, ScriptRunConfig
from runhistory.compute.processes import pid_alive
from runhistory.tracking import status as st

SLEEPER = """
    import os, sys, time
    print("started", flush=True)
    os.makedirs("outputs", exist_ok=True)
    with open("outputs/partial.txt", "w") as handle:
        handle.write("half way")
    time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 60)
    print("woke up", flush=True)
"""


def _compute(run: Run) -> dict[str, object]:
    compute: dict[str, object] = run.get_details()["runDefinition"]["compute"]
    return compute


def _gone(pid: int, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not pid_alive(pid)


def _wait_log(run: Run, text: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "logs/std_log.txt" in run.get_file_names():
            with run._backend.open_file(run.id, "logs/std_log.txt") as handle:
                if text in handle.read().decode():
                    return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never reached the log of {run.id}")


def test_cancel_stops_a_sleeping_job_within_the_grace_period(
    exp: Experiment, source: Callable[..., Path], wait_for: Callable[..., str]
) -> None:
    folder = source({"sleep.py": SLEEPER})
    run = exp.submit(ScriptRunConfig(folder, "sleep.py"))
    wait_for(run, (st.RUNNING,))
    _wait_log(run, "started")  # the log is there while the job runs
    job_pid = int(str(_compute(run)["job_pid"]))
    assert pid_alive(job_pid)
    asked = time.monotonic()
    Run.get(exp.workspace, run.id).cancel()  # any Run object for the id will do
    assert wait_for(run, (st.CANCELED,), timeout=3 + 2) == st.CANCELED
    assert time.monotonic() - asked < 3 + 2  # grace period (3 s in these tests) + slack
    assert _gone(job_pid), "the job's process is still alive"
    assert _gone(int(str(_compute(run)["supervisor_pid"])))
    assert "outputs/partial.txt" in run.get_file_names()  # outputs so far are uploaded
    assert "woke up" not in run.get_details_with_logs()["logFiles"]["logs/std_log.txt"]


def test_sigterm_ignoring_job_is_killed_after_grace(
    exp: Experiment,
    source: Callable[..., Path],
    wait_for: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUNHISTORY_CANCEL_GRACE_SECONDS", "0.5")
    folder = source(
        {
            "stubborn.py": """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ignoring SIGTERM", flush=True)
        time.sleep(60)
    """
        }
    )
    run = exp.submit(ScriptRunConfig(folder, "stubborn.py"))
    _wait_log(run, "ignoring SIGTERM")
    cancel = (
        "import sys; from runhistory import Run, Workspace; "
        "Run.get(Workspace(path=sys.argv[1]), sys.argv[2]).cancel()"
    )
    ws_path = str(Path(exp.workspace.tracking_uri))
    subprocess.run([sys.executable, "-c", cancel, ws_path, run.id], check=True)  # another process
    assert run.get_status() in (st.CANCEL_REQUESTED, st.CANCELED)
    wait_for(run, (st.CANCELED,), timeout=5)
    assert _compute(run)["exit_code"] == -signal.SIGKILL
    assert _gone(int(str(_compute(run)["job_pid"])))


def test_cancel_while_queued_never_starts_the_job(
    exp: Experiment,
    source: Callable[..., Path],
    wait_for: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    cleanup_runs: list[Run],
) -> None:
    monkeypatch.setenv("RUNHISTORY_LOCAL_MAX_JOBS", "1")
    folder = source({"sleep.py": SLEEPER})
    first = exp.submit(ScriptRunConfig(folder, "sleep.py", arguments=[30]))
    cleanup_runs.append(first)
    wait_for(first, (st.RUNNING,))
    second = exp.submit(ScriptRunConfig(folder, "sleep.py", arguments=[0]))
    time.sleep(0.8)
    assert second.get_status() == st.QUEUED
    assert "free slot" in second.get_detailed_status()["details"]
    second.cancel()
    wait_for(second, (st.CANCELED,), timeout=5)
    assert "job_pid" not in _compute(second)
    first.cancel()
    wait_for(first, (st.CANCELED,), timeout=5)


def test_local_queue_runs_at_most_max_jobs_at_once(
    exp: Experiment, source: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNHISTORY_LOCAL_MAX_JOBS", "1")
    folder = source({"sleep.py": SLEEPER})
    runs = [exp.submit(ScriptRunConfig(folder, "sleep.py", arguments=[1])) for _ in range(2)]
    seen_both_running = False
    while not all(st.is_terminal(r.get_status()) for r in runs):
        statuses = [r.get_status() for r in runs]
        seen_both_running |= statuses.count(st.RUNNING) == 2
        time.sleep(0.05)
    assert not seen_both_running
    assert [r.get_status() for r in runs] == [st.COMPLETED, st.COMPLETED]
    spans = sorted((r.get_details()["startTimeUtc"], r.get_details()["endTimeUtc"]) for r in runs)
    assert spans[0][1] <= spans[1][0]  # one after the other


def test_stale_heartbeat_shows_not_responding(
    exp: Experiment,
    source: Callable[..., Path],
    wait_for: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    cleanup_runs: list[Run],
) -> None:
    monkeypatch.setenv("RUNHISTORY_HEARTBEAT_INTERVAL", "60")  # the supervisor beats once
    folder = source({"sleep.py": SLEEPER})
    run = exp.submit(ScriptRunConfig(folder, "sleep.py"))
    cleanup_runs.append(run)
    wait_for(run, (st.RUNNING,))
    reader = (
        "import sys, time; from runhistory import Run, Workspace; time.sleep(1.5); "
        "print(Run.get(Workspace(path=sys.argv[1]), sys.argv[2]).get_status())"
    )
    env = {**os.environ, "RUNHISTORY_HEARTBEAT_TIMEOUT": "1"}
    seen = subprocess.run(
        [sys.executable, "-c", reader, str(tmp_path / "ws"), run.id],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    ).stdout.strip()
    assert seen == st.NOT_RESPONDING
    assert run.get_status() == st.RUNNING  # with the default timeout it is still fine


def test_killed_supervisor_leaves_failed_never_running(
    exp: Experiment, source: Callable[..., Path], wait_for: Callable[..., str]
) -> None:
    folder = source({"sleep.py": SLEEPER})
    run = exp.submit(ScriptRunConfig(folder, "sleep.py"))
    _wait_log(run, "started")  # the job runs and its pid is recorded
    compute = _compute(run)
    os.kill(int(str(compute["supervisor_pid"])), signal.SIGKILL)
    assert wait_for(run, (st.FAILED,), timeout=5) == st.FAILED
    assert "supervisor" in run.get_details()["error"]["message"]
    assert _gone(int(str(compute["job_pid"])))  # the orphaned job is stopped too


def test_killed_job_process_is_failed_with_the_signal(
    exp: Experiment, source: Callable[..., Path]
) -> None:
    folder = source({"sleep.py": SLEEPER})
    run = exp.submit(ScriptRunConfig(folder, "sleep.py"))
    _wait_log(run, "started")
    os.kill(int(str(_compute(run)["job_pid"])), signal.SIGKILL)
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED
    assert "killed by signal SIGKILL" in details["error"]["message"]


def test_max_run_duration_stops_and_fails_the_job(
    exp: Experiment, source: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNHISTORY_CANCEL_GRACE_SECONDS", "0.5")
    folder = source({"sleep.py": SLEEPER})
    run = exp.submit(ScriptRunConfig(folder, "sleep.py", max_run_duration_seconds=1))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED
    assert details["error"]["code"] == "RunTimeout"


WATCH = """
import sys
from runhistory import Run, Workspace
ws = Workspace(path=sys.argv[1])
Run.get(ws, sys.argv[2]).wait_for_completion(show_output=True)
"""


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def test_show_output_streams_lines_while_the_job_runs(
    exp: Experiment, source: Callable[..., Path], tmp_path: Path
) -> None:
    release = tmp_path / "release"
    folder = source(
        {
            "talk.py": """
        import os, sys, time
        print("epoch 1 done", flush=True)
        while not os.path.exists(sys.argv[1]):
            time.sleep(0.05)
        print("all epochs done", flush=True)
    """
        }
    )
    run = exp.submit(ScriptRunConfig(folder, "talk.py", arguments=[str(release)]))
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCH, str(tmp_path / "ws"), run.id],
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(watcher.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + 20
    seen: list[str] = []
    while "epoch 1 done\n" not in seen:
        seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
    assert run.get_status() == st.RUNNING  # shown before the job ended
    release.write_text("go")
    assert watcher.wait(timeout=20) == 0
    rest = []
    while not lines.empty():
        rest.append(lines.get())
    text = "".join(seen + rest)
    assert "all epochs done" in text and "Execution Summary" in text and "Completed" in text
    assert text.count("epoch 1 done") == 1
