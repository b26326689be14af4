"""A client whose server is not there fails at once, naming the URL and the cause; one whose
server goes away after answering waits for it (saying so on stderr) and loses nothing."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from runhistory import Experiment, Run, Workspace
from runhistory.errors import StorageError
from support.services import ServerProcess, free_port, runhistory_command

LONG = "600"  # a retry budget no test waits out: reaching the end of one would fail the test


def _closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # a port nothing listens on


def test_first_contact_with_a_closed_port_fails_at_once_naming_url_and_cause(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNHISTORY_HTTP_RETRY_SECONDS", LONG)  # only for a server reached
    monkeypatch.setenv("RUNHISTORY_HTTP_CONNECT_SECONDS", "0")
    url = _closed_url()
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        Experiment(Workspace(tracking_uri=url), "closed-port")
    assert time.monotonic() - started < 60, "waited on a server never reached"
    message = str(caught.value)
    assert url in message
    assert "connection refused" in message
    assert "not reached before" in message
    assert caught.value.fields["url"] == url
    assert capsys.readouterr().err == ""  # no wait, nothing announced


def test_a_host_name_that_does_not_resolve_fails_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUNHISTORY_HTTP_RETRY_SECONDS", LONG)
    monkeypatch.setenv("RUNHISTORY_HTTP_CONNECT_SECONDS", LONG)
    url = "http://no-such-host.invalid:5000"
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        Experiment(Workspace(tracking_uri=url), "nowhere")
    assert time.monotonic() - started < 60, "waited on a name that does not resolve"
    assert url in str(caught.value)
    assert "host name 'no-such-host.invalid' not resolved" in str(caught.value)


def test_the_cli_against_a_closed_port_says_it_retries_then_names_the_cause() -> None:
    url = _closed_url()
    env = {**os.environ, "RUNHISTORY_TRACKING_URI": url, "RUNHISTORY_HTTP_CONNECT_SECONDS": "1.5",
           "RUNHISTORY_HTTP_RETRY_SECONDS": LONG}  # fmt: skip
    result = subprocess.run([runhistory_command(), "run", "list"], capture_output=True,
                            text=True, env=env, timeout=120)  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    waiting = [line for line in lines if "retrying for up to" in line]
    assert waiting == [
        f"runhistory: the server at {url} is not reachable: connection refused (nothing listens "
        f"on 127.0.0.1:{url.rsplit(':', 1)[1]}); retrying for up to 1.5 s "
        "(RUNHISTORY_HTTP_CONNECT_SECONDS)"
    ]
    assert any(line.startswith(f"Error: cannot reach the runhistory server at {url}: "
                               "connection refused") for line in lines), result.stderr  # fmt: skip


_WRITER = """
import sys
from runhistory import Experiment, Run, Workspace
run = Experiment(Workspace(tracking_uri=sys.argv[1]), "restarts").start_logging()
for step in range(100):
    run.log("x", step, step=step)
run.tag("before", "yes")
run.flush()
print(run.id, flush=True)
sys.stdin.readline()  # the test stops the server now
for step in range(100, 200):
    run.log("x", step, step=step)  # written behind: spooled while the server is down
print(sum(1 for _ in Run.list(run.experiment)), flush=True)  # a request: waits for the server
run.tag("during", "yes")
for step in range(200, 300):
    run.log("x", step, step=step)
run.complete()
print("done", flush=True)
"""


def _line(stream: Any, seconds: float = 120.0) -> str:
    """The next line of a child's output, or a failure after ``seconds``."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=seconds)
    except queue.Empty:
        pytest.fail(f"no line from the writer within {seconds} s")


@pytest.mark.slow
def test_a_server_restarted_mid_run_is_waited_for_and_keeps_every_value(
    pg_server: ServerProcess, tmp_path: Path
) -> None:
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(_WRITER), encoding="utf-8")
    env = {**os.environ, "RUNHISTORY_HTTP_RETRY_SECONDS": LONG,
           "RUNHISTORY_HTTP_CONNECT_SECONDS": "0"}  # fmt: skip
    child = subprocess.Popen([sys.executable, str(script), pg_server.url], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)  # fmt: skip
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    try:
        run_id = _line(child.stdout).strip()
        assert run_id, child.stderr.read()
        pg_server.stop()
        child.stdin.write("go\n")
        child.stdin.flush()
        announced = _line(child.stderr)  # the writer now waits for the server
        assert announced.startswith(f"runhistory: the server at {pg_server.url} is not "
                                    "reachable: connection refused"), announced  # fmt: skip
        assert announced.rstrip().endswith(
            f"retrying for up to {LONG} s (RUNHISTORY_HTTP_RETRY_SECONDS)"
        )
        pg_server.restart()
        assert _line(child.stdout).strip() == "1"
        assert _line(child.stdout).strip() == "done"
        assert child.wait(60) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    run = Run.get(Workspace(tracking_uri=pg_server.url), run_id)
    assert run.status == "Completed"
    assert run.get_tags()["before"] == "yes" and run.get_tags()["during"] == "yes"
    history = run.get_metric_history("x")
    assert [p["step"] for p in history] == list(range(300))
    assert [p["value"] for p in history] == list(range(300))
