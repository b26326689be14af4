"""B2: read back one metric of 1,000,000 points (embedded SQLite on both sides).

runhistory: ``run.get_metrics(name)`` and ``run.get_metric_history(name)`` in a fresh process.
MLflow: ``MlflowClient.get_metric_history`` (its only way to read every point).
Aim: ``get_metric(name, context).values`` and ``.data`` (see :mod:`rhbench.aim_side`).
"""

from __future__ import annotations

import os
import time
from typing import Any

from rhbench import aim_side
from rhbench.harness import AIM, ML, RH, Harness, Row

STORAGE = "SQLite file / SQLite file"
NAME = "loss"


def rh_read(run_id: str, expected: int) -> dict[str, Any]:
    """runhistory: time both reads of the metric in this fresh process."""
    from runhistory import Run, Workspace

    run = Run.get(Workspace(path=os.path.abspath("ws")), run_id)
    started = time.perf_counter()
    values = run.get_metrics(NAME)[NAME]
    metrics_s = time.perf_counter() - started
    started = time.perf_counter()
    history = run.get_metric_history(NAME)
    history_s = time.perf_counter() - started
    if len(values) != expected or len(history) != expected:
        raise RuntimeError(f"read {len(values)}/{len(history)} points, {expected} were stored")
    return {"get_metrics_s": metrics_s, "history_s": history_s}


def run(h: Harness) -> None:
    """Prepare the metric once per side, then read it in fresh processes, alternating."""
    size, ml_size = (20_000, 20_000) if h.settings.quick else (1_000_000, 250_000)
    rh_dir, ml_dir = h.scratch("b2-rh"), h.scratch("b2-ml")
    uri = f"sqlite:///{ml_dir / 'mlflow.db'}"
    prepared: dict[str, Any] = {}

    def rh_side(rep: int) -> dict[str, Any]:
        if RH not in prepared:
            params = {"points": size, "chunk": 1000}
            prepared[RH] = h.call(RH, "b1_log", "rh_log", params, cwd=rh_dir)["run_id"]
        return h.call(RH, "b2_read", "rh_read", {"run_id": prepared[RH], "expected": size}, rh_dir)

    def ml_side(rep: int) -> dict[str, Any]:
        if ML not in prepared:
            params = {"uri": uri, "runs": 1, "points": ml_size, "name": NAME, "experiment": "b2"}
            prepared[ML] = h.call(ML, "mlflow_data", "points", params, cwd=ml_dir)["run_ids"]
        params = {"uri": uri, "run_ids": prepared[ML], "name": NAME, "expected": ml_size}
        result = h.call(ML, "mlflow_data", "read_history", params, cwd=ml_dir)
        return {"seconds": result["seconds"] * size / ml_size}

    results = h.alternate("B2", {RH: rh_side, ML: ml_side, AIM: aim_side.b2_side(h, size)})
    n = f"{size:,}"
    ml_n = n if ml_size == size else f"{ml_size:,} (extrap.)"
    rows: dict[str, Row] = {}
    for measure, key in (
        ("get_metrics(name)", "get_metrics_s"),
        ("get_metric_history", "history_s"),
    ):
        row = Row("B2", f"read 1 metric: {measure}", "s", False, n, ml_n, STORAGE)
        h.fill(row, RH, results[RH], key)
        h.fill(row, ML, results[ML], "seconds")
        rows[key] = row
    aim_side.b2_cells(h, rows, results[AIM], size)
    h.notes.append(
        "B2: MLflow reads with get_metric_history in both rows (its only full read); "
        "an extrapolated size means its time is scaled linearly to runhistory's point count."
    )
