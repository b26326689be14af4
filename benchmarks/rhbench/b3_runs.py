"""B3: create many runs (10 properties, 5 tags, 3 metrics each), then filtered listings.

runhistory: ``experiment.start_logging()``, ``add_properties``, ``set_tags``, three ``log``
calls, ``complete()`` (every tenth run ``fail()``); then ``Experiment.get_runs(tags=…,
properties=…)`` and ``Run.list(experiment, status="Failed")`` in a fresh process.
MLflow: ``start_run``, ``log_params`` (its properties), ``set_tags``, ``log_metrics``,
``end_run``; then ``MlflowClient.search_runs`` with the same filters, ordered by start time.
MLflow creates fewer runs (its rate is extrapolated); its listing corpus is grown to the same
number of runs as runhistory's by copying its own rows (see :mod:`rhbench.b3_mlflow`).
Aim: ``Run``, ``run["hparams"]``, ``add_tag``, ``track``, ``close()``; then ``repo.query_runs``
(see :mod:`rhbench.aim_side`).
"""

from __future__ import annotations

import os
import time
from typing import Any

from rhbench import aim_side
from rhbench.common import median, time_calls
from rhbench.harness import AIM, ML, RH, Harness, Row

STORAGE = "SQLite file / SQLite file"
EXPERIMENT = "bench-b3"
QUERY_REPEAT = 5


def properties(i: int) -> dict[str, str]:
    """The 10 properties (MLflow: params) of run ``i``."""
    values = {f"prop{j}": f"value-{j}-{i % 7}" for j in range(8)}
    return values | {"shard": f"s{i % 4}", "seed": str(i)}


def tags(i: int) -> dict[str, str]:
    """The 5 tags of run ``i``."""
    return {"group": f"g{i % 10}"} | {f"tag{j}": f"t{j}-{i % 3}" for j in range(4)}


def failed(i: int) -> bool:
    """Every tenth run fails."""
    return i % 10 == 9


def expected_counts(runs: int) -> dict[str, int]:
    """How many runs each listing must return (group g3 and shard s1: i % 20 == 13)."""
    return {
        "filtered": sum(1 for i in range(runs) if i % 20 == 13),
        "failed": sum(1 for i in range(runs) if failed(i)),
    }


def rh_create(runs: int, budget_s: float, start: int = 0) -> dict[str, Any]:
    """runhistory: create runs ``start .. runs-1``, stopping early when ``budget_s`` has passed."""
    from runhistory import Experiment, Workspace

    experiment = Experiment(Workspace(path=os.path.abspath("ws")), EXPERIMENT)
    started = time.perf_counter()
    created = start
    while created < runs and (created % 10 or time.perf_counter() - started < budget_s):
        run = experiment.start_logging()
        run.add_properties(properties(created))
        run.set_tags(tags(created))
        for j in range(3):
            run.log(f"metric{j}", created * 0.1 + j)
        run.fail() if failed(created) else run.complete()
        created += 1
    elapsed = time.perf_counter() - started
    return {"runs_per_s": (created - start) / elapsed, "created": created}


def rh_query(runs: int) -> dict[str, Any]:
    """runhistory: median latency of the two listings over ``runs`` runs (fresh process)."""
    from runhistory import Experiment, Run, Workspace

    experiment = Experiment(Workspace(path=os.path.abspath("ws")), EXPERIMENT)
    expected = expected_counts(runs)
    filtered = list(experiment.get_runs(tags={"group": "g3"}, properties={"shard": "s1"}))
    failures = list(Run.list(experiment, status="Failed"))
    _check(len(filtered), expected["filtered"], len(failures), expected["failed"])
    tagged = time_calls(
        lambda: list(experiment.get_runs(tags={"group": "g3"}, properties={"shard": "s1"})),
        QUERY_REPEAT,
    )
    status = time_calls(lambda: list(Run.list(experiment, status="Failed")), QUERY_REPEAT)
    return {"filtered_ms": median(tagged) * 1e3, "status_ms": median(status) * 1e3}


def _check(filtered: int, want_filtered: int, failures: int, want_failed: int) -> None:
    if filtered != want_filtered or failures != want_failed:
        raise RuntimeError(
            f"listings returned {filtered} and {failures} runs, "
            f"expected {want_filtered} and {want_failed}"
        )


def mlflow_create(uri: str, runs: int) -> dict[str, Any]:
    """MLflow: create ``runs`` runs through the fluent API."""
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(EXPERIMENT)
    started = time.perf_counter()
    for i in range(runs):
        mlflow.start_run()
        mlflow.log_params(properties(i))
        mlflow.set_tags(tags(i))
        mlflow.log_metrics({f"metric{j}": i * 0.1 + j for j in range(3)})
        mlflow.end_run(status="FAILED" if failed(i) else "FINISHED")
    return {"runs_per_s": runs / (time.perf_counter() - started)}


def mlflow_query(uri: str, runs: int, grow_from: int = 0) -> dict[str, Any]:
    """MLflow: median latency of ``search_runs`` with the same two filters, newest first.

    With ``grow_from`` > 0 the corpus is first grown from that many runs to ``runs``.
    """
    import mlflow
    from mlflow.tracking import MlflowClient

    if grow_from:
        from rhbench.b3_mlflow import grow

        grow(uri, grow_from, runs)

    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    experiment_id = client.get_experiment_by_name(EXPERIMENT).experiment_id
    order = ["attributes.start_time DESC"]

    def search(where: str) -> Any:
        return client.search_runs([experiment_id], where, order_by=order, max_results=50_000)

    tagged_filter = "tags.group = 'g3' and params.shard = 's1'"
    status_filter = "attributes.status = 'FAILED'"
    expected = expected_counts(runs)
    _check(
        len(search(tagged_filter)),
        expected["filtered"],
        len(search(status_filter)),
        expected["failed"],
    )
    tagged = time_calls(lambda: search(tagged_filter), QUERY_REPEAT)
    status = time_calls(lambda: search(status_filter), QUERY_REPEAT)
    return {"filtered_ms": median(tagged) * 1e3, "status_ms": median(status) * 1e3}


def run(h: Harness) -> None:
    """Creation (alternating, fresh databases), then the listings over the first corpus."""
    quick = h.settings.quick
    target, ml_runs, budget = (500, 20, 3.0) if quick else (10_000, 200, 30.0)
    corpus: dict[str, Any] = {}

    def rh_side(rep: int) -> dict[str, Any]:
        folder = h.scratch("b3-rh")
        result = h.call(RH, "b3_runs", "rh_create", {"runs": target, "budget_s": budget}, folder)
        corpus.setdefault(RH, (folder, result["created"]))
        return result

    def ml_side(rep: int) -> dict[str, Any]:
        folder = h.scratch("b3-ml")
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        corpus.setdefault(ML, uri)
        return h.call(ML, "b3_runs", "mlflow_create", {"uri": uri, "runs": ml_runs}, folder)

    created = h.alternate("B3 create", {RH: rh_side, ML: ml_side, AIM: aim_side.b3_create_side(h)})
    timed = corpus[RH][1] if RH in corpus else target
    row = Row("B3", "create runs (10 props, 5 tags, 3 metrics)", "runs/s", True, "", "", STORAGE)
    row.rh_size = f"{timed:,}" + (" (extrap.)" if timed < target else "")
    row.ml_size = f"{ml_runs:,} (extrap.)"
    h.fill(row, RH, created[RH], "runs_per_s")
    h.fill(row, ML, created[ML], "runs_per_s")
    aim_side.b3_create_cells(h, row, created[AIM], target)
    size = _top_up(h, corpus, target, budget) if RH in corpus else target
    _listings(h, corpus, size, ml_runs)


def _top_up(h: Harness, corpus: dict[str, Any], target: int, budget: float) -> int:
    """Create the rest of runhistory's listing corpus (untimed; at most four budgets long)."""
    folder, created = corpus[RH]
    if created < target:
        params = {"runs": target, "budget_s": budget * 4, "start": created}
        try:
            created = h.call(RH, "b3_runs", "rh_create", params, folder)["created"]
        except Exception as exc:  # the listings run on what exists
            h.errors.append(f"B3 runhistory: growing the corpus failed: {exc}")
        corpus[RH] = (folder, created)
    return int(created)


def _listings(h: Harness, corpus: dict[str, Any], size: int, ml_runs: int) -> None:
    def rh_side(rep: int) -> dict[str, Any]:
        return h.call(RH, "b3_runs", "rh_query", {"runs": size}, corpus[RH][0])

    def ml_side(rep: int) -> dict[str, Any]:
        params = {"uri": corpus[ML], "runs": max(size, ml_runs)}
        if rep == 0:
            params["grow_from"] = ml_runs
        return h.call(ML, "b3_runs", "mlflow_query", params)

    sides = {side: fn for side, fn in ((RH, rh_side), (ML, ml_side)) if side in corpus}
    results = h.alternate("B3 list", sides | {AIM: aim_side.b3_query_side(h)})
    n = f"{size:,} runs"
    ml_n = f"{max(size, ml_runs):,} runs"
    rows: list[Row] = []
    for measure, key in (
        ("get_runs(tags, properties) / search_runs", "filtered_ms"),
        ("Run.list(status=Failed) / search_runs", "status_ms"),
    ):
        row = Row("B3", measure, "ms", False, n, ml_n, STORAGE)
        h.fill(row, RH, results.get(RH, "n/a: no corpus"), key)
        h.fill(row, ML, results.get(ML, "n/a: no corpus"), key)
        rows.append(row)
    aim_side.b3_query_cells(h, rows[0], rows[1], results[AIM])
