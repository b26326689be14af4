"""Outside a notebook: where the widget cannot be drawn, a one-line summary and the link."""

from __future__ import annotations

import sys
import time
from typing import Any


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (where a widget can be displayed)."""
    ipython_module = sys.modules.get("IPython")  # never imported here just to ask
    if ipython_module is None:
        return False
    shell = ipython_module.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def duration_text(run: dict[str, Any], now: float | None = None) -> str:
    """How long the run ran (or has been running): ``12.3 s``, ``4 min 5 s``, ``2 h 3 min``."""
    start = run.get("start_time")
    if start is None:
        return "not started"
    end = run.get("end_time") or (now if now is not None else time.time())
    seconds = max(0.0, float(end) - float(start))
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    hours, minutes = divmod(whole // 60, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {whole % 60} s"


def summary_line(state: dict[str, Any]) -> str:
    """One line: the run, its status and duration, its metrics' last values, its children."""
    run = state["run"]
    name = run.get("display_name") or f"Run {run.get('number')}"
    parts = [f"{name} ({run['run_id']}, experiment {run['experiment_name']}): {run['status']}"]
    parts.append(duration_text(run))
    shown = [m for m in state.get("metrics", []) if _short(m.get("last_value"))][:4]
    if shown:
        parts.append(", ".join(f"{m['name']}={_format(m['last_value'])}" for m in shown))
    children = state.get("children", [])
    if children:
        done = sum(c["status"] == "Completed" for c in children)
        parts.append(f"{len(children)} child runs ({done} completed)")
    return " · ".join(parts)


def _short(value: Any) -> bool:
    return isinstance(value, (int, float, str)) and len(str(value)) <= 40


def _format(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)
