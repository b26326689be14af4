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
from typing import Any

RESULT_MARK = "RHBENCH-RESULT "


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
