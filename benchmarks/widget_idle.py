"""CPU used by a Jupyter kernel that shows ``RunDetails(run)`` of a live run that logs nothing.

Starts a real kernel of this Python, starts a run there (embedded workspace, or a workspace on a
``runhistory server`` subprocess), and measures the kernel process's CPU time (user + system,
from /proc) over ``--seconds`` while idle: first without a widget, then with the widget shown
(its thread polls every ``RUNHISTORY_WIDGET_POLL_SECONDS``). For the server case the server's
CPU is measured too. Prints a table; no assertions (numbers depend on the machine).

    python benchmarks/widget_idle.py                # 30 s per measurement
    python benchmarks/widget_idle.py --seconds 10
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel

SETUP = """
import os
from runhistory import Experiment, Workspace
from runhistory.widgets import RunDetails
ws = Workspace(tracking_uri={uri!r})
run = Experiment(ws, "idle-widget").start_logging()
for step in range(1000):
    run.log("loss", 1.0 / (step + 1), step=step)
run.flush()
print(os.getpid())
"""
SHOW = "details = RunDetails(run)\ndetails.show()\nprint(details._poller.running)"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def execute(client: Any, code: str) -> str:
    """Run code in the kernel; returns what it printed."""
    printed: list[str] = []

    def output(message: dict[str, Any]) -> None:
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            raise RuntimeError("\n".join(message["content"]["traceback"]))

    client.execute_interactive(code, output_hook=output, timeout=120)
    return "".join(printed).strip()


def idle_share(pids: list[int], seconds: float) -> list[float]:
    """CPU share (%) of each process over ``seconds`` of waiting."""
    before = [cpu_seconds(p) for p in pids]
    started = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - started
    return [100 * (cpu_seconds(p) - b) / wall for p, b in zip(pids, before, strict=True)]


def measure(uri: str, seconds: float, server_pid: int | None) -> list[tuple[str, list[float]]]:
    """[(case, [kernel %, server %?]), ...] without and with the widget."""
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        kernel_pid = int(execute(client, SETUP.format(uri=uri)).splitlines()[-1])
        pids = [kernel_pid] + ([server_pid] if server_pid else [])
        time.sleep(2)  # let start-up work settle
        rows = [("live run, no widget", idle_share(pids, seconds))]
        assert execute(client, SHOW) == "True", "the widget is not polling"
        rows.append(("live run, widget shown", idle_share(pids, seconds)))
        execute(client, "run.complete()")
        return rows
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A ``runhistory server`` on a free loopback port, healthy."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    script = Path(sys.executable).parent / "runhistory"
    command = [str(script), "server", "--port", str(port), "--log-level", "warning",
               "--backend-store-uri", str(folder / "server-ws")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each measurement")
    args = parser.parse_args()
    interval = os.environ.get("RUNHISTORY_WIDGET_POLL_SECONDS", "2.0")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        os.environ["RUNHISTORY_HOME"] = str(folder / "home")
        os.environ["RUNHISTORY_QUIET"] = "1"
        print(f"kernel CPU while idle, {args.seconds:.0f} s each, polling every {interval} s\n")
        print("| workspace | case | kernel CPU % | server CPU % |\n|---|---|---|---|")
        for case, shares in measure(str(folder / "ws"), args.seconds, None):
            print(f"| embedded (SQLite) | {case} | {shares[0]:.2f} | - |")
        server, url = start_server(folder)
        try:
            for case, shares in measure(url, args.seconds, server.pid):
                print(f"| server (HTTP) | {case} | {shares[0]:.2f} | {shares[1]:.2f} |")
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
