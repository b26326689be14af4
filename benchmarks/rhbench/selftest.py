"""Workers for the harness's own tests (tests/benchmarks): processes that hang, chatter, wait
for each other or fail before a start, so the harness's limits and kills can be checked.
Standard library only."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rhbench.common import wait_for_start


def sleep_with_child(seconds: float, pid_file: str) -> dict[str, Any]:
    """Start a child process (same process group), write both pids, sleep ``seconds``."""
    child = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])
    Path(pid_file).write_text(f"{os.getpid()} {child.pid}")
    time.sleep(seconds)
    return {"slept": seconds}


def chatter(size: int, flag: str) -> dict[str, Any]:
    """Write ``size`` bytes to stdout and to stderr, then create the file ``flag``."""
    line = "x" * 99 + "\n"
    for _ in range(size // 100):
        sys.stdout.write(line)
        sys.stderr.write(line)
    sys.stdout.flush()
    sys.stderr.flush()
    Path(flag).touch()
    return {"written": size}


def wait_for(flag: str, timeout: float) -> dict[str, Any]:
    """Wait until the file ``flag`` exists (at most ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not Path(flag).exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{flag} did not appear within {timeout} s")
        time.sleep(0.01)
    return {"seen": True}


def client(barrier: str, index: int, fail: bool = False) -> dict[str, Any]:
    """A concurrent client: fail before the start if asked, else wait for it."""
    if fail:
        raise RuntimeError(f"client {index} failed before the start")
    return {"begin": wait_for_start(barrier, index), "index": index}
