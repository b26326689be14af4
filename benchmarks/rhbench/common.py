"""Helpers shared by the benchmark workers; standard library only (MLflow's interpreter imports it).

A worker is a function ``def name(**params) -> dict`` in a workload module. It runs in a fresh
process (``python -m rhbench.worker MODULE FUNCTION JSON``) and returns plain numbers.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

RESULT_MARK = "RHBENCH-RESULT "
GO = "go"  # the harness's start signal to concurrent clients (a file in the barrier folder)
ABORT = "abort"  # the harness called the start off: a client failed before it or was late
BARRIER_TIMEOUT = 900.0  # a client gives up waiting for either after this many seconds


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (``ru_maxrss``; KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    return float(statistics.median(values))


def time_calls(call: Callable[[], Any], repeat: int) -> list[float]:
    """Seconds taken by each of ``repeat`` calls of ``call``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def wait_for_start(folder: str, index: int, timeout: float = BARRIER_TIMEOUT) -> float:
    """Say client ``index`` is ready (``ready-<index>`` in ``folder``) and wait for the start.

    Returns the start time. Raises RuntimeError when the harness called the start off or gave
    no signal within ``timeout``: a client never waits forever for clients that failed.
    """
    base = Path(folder)
    (base / f"ready-{index}").touch()
    deadline = time.monotonic() + timeout
    while not (base / GO).exists():
        if (base / ABORT).exists():
            raise RuntimeError("the harness called the start off (another client failed)")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no start signal within {timeout:.0f} s")
        time.sleep(0.002)
    return time.time()
