"""B6: start-up — ``import`` in a fresh interpreter, and server start to the first healthy answer.

Imports are timed inside a fresh process around the import statement alone (the interpreter's
own start is the same for both and is left out), median of 5 processes (quick: 1).
Server start is the time from launching the command to the first 200 from its health route
(``/healthz``, MLflow ``/health``): on an empty database (schema created) and again on the
existing database.
"""

from __future__ import annotations

import subprocess
from typing import Any

from rhbench.common import median
from rhbench.harness import AIM, ML, RH, Harness, Result, Row, WorkerError
from rhbench.servers import WORKERS

IMPORTS = {
    "import": {RH: "import runhistory", ML: "import mlflow", AIM: "import aim"},
    "sdk": {
        RH: "from runhistory import Experiment, Run, Workspace",
        ML: "from mlflow import MlflowClient, start_run",
        AIM: "from aim import Repo, Run",
    },
}
_PROBE = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"


def import_seconds(h: Harness, side: str, statement: str) -> float:
    """Median over fresh processes of the time the import statement takes."""
    folder = h.scratch("b6-import")
    times = []
    for _ in range(1 if h.settings.quick else 5):
        done = subprocess.run(
            [h.python(side), "-c", _PROBE.format(statement)],
            cwd=folder,
            env=h.env(side, folder),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise WorkerError(f"`{statement}` failed: {done.stderr.strip()[-500:]}")
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return median(times)


def run(h: Harness) -> None:
    """Import times, alternating sides (server starts come from the HTTP sessions)."""

    def imports(side: str) -> Any:
        return lambda rep: {
            key: import_seconds(h, side, stmts[side]) * 1e3 for key, stmts in IMPORTS.items()
        }

    results = h.alternate("B6 import", {RH: imports(RH), ML: imports(ML), AIM: imports(AIM)})
    for key, measure in (("import", "import the package"), ("sdk", "import the logging API")):
        row = Row("B6", measure, "ms", False, "fresh process", "fresh process", "-")
        h.fill(row, RH, results[RH], key)
        h.fill(row, ML, results[ML], key)
        row.aim_size = "fresh process"
        h.fill(row, AIM, results[AIM], key)
    h.notes.append(
        "B6: imports timed in a fresh interpreter around the statement alone: "
        + "; ".join(" / ".join(IMPORTS[k].values()) for k in IMPORTS)
    )


def add_server_rows(h: Harness, results: dict[str, list[Result] | str]) -> None:
    """Server start rows from the HTTP sessions (``fresh_s``, ``existing_s``)."""
    storage = "server+PostgreSQL / server+PostgreSQL"
    rows = [("fresh_s", "server start → healthy, empty db")]
    if not h.settings.quick:
        rows.append(("existing_s", "server start → healthy, existing db"))
    for key, measure in rows:
        row = Row("B6", measure, "s", False, f"{WORKERS} workers", f"{WORKERS} workers", storage)
        h.fill(row, RH, results[RH], key)
        h.fill(row, ML, results[ML], key)
