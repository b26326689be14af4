"""PostgreSQL's CPU time per B3 run stored as a server stores it, with schema variants side by side.

Builds B3's short runs (10 properties, 5 tags, 3 single-point metrics, ``complete()``, each
batch with its batch id) and stores them through ``SqlTrackingStore.write_changes`` in groups
of ``--group`` batches, as a server merges the batches of concurrent requests: the run-number
reservation, then the one-statement insert (see ``store/sql/_new_runs.py``). Each variant gets
a fresh database; the variants take turns in blocks of ``--block`` groups, so a machine busy
with other work weighs on all of them alike. Reports, per run, the on-CPU time of the
database backend (``/proc/<pid>/schedstat``, nanoseconds) and of this process's Python.

Variants: ``shipped`` (the schema as migrated), ``no-foreign-keys`` (the four foreign keys
a new run's rows are checked against dropped), ``no-run-keys-index`` (the key/value index
of filters dropped), for what each costs; only ``shipped`` is a schema the store runs on.

    python benchmarks/pg_new_runs_cpu.py --group 1 --rounds 30
    python benchmarks/pg_new_runs_cpu.py --group 4 --variants shipped no-foreign-keys
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from rhbench.b3_runs import properties, tags
from rhbench.pg import _admin, fresh_database

from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import (
    VTYPE_FLOAT,
    MetricWrite,
    PropertyChange,
    RunCreate,
    StatusWrite,
    TagChange,
    WriteBatch,
)

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
ACTIVE = ("NotStarted", "Running")
VARIANTS: dict[str, list[str]] = {
    "shipped": [],
    "no-foreign-keys": [
        "ALTER TABLE runs DROP CONSTRAINT runs_experiment_id_fkey",
        "ALTER TABLE runs DROP CONSTRAINT runs_parent_run_id_fkey",
        "ALTER TABLE metrics DROP CONSTRAINT metrics_run_id_fkey",
        "ALTER TABLE metric_batches DROP CONSTRAINT metric_batches_run_id_fkey",
    ],
    "no-run-keys-index": ["ALTER TABLE run_keys DROP CONSTRAINT run_keys_pkey"],
}


def b3_batch(experiment_id: str, i: int) -> WriteBatch:
    """Run ``i`` of B3 as its client sends it: one batch, claimed by a batch id."""
    run_id = f"b3_{uuid.uuid4().hex}"
    now = time.time()
    metrics = [
        MetricWrite(f"metric{j}", "scalar", [(None, VTYPE_FLOAT, i * 0.1 + j, None, now)])
        for j in range(3)
    ]
    status = "Failed" if i % 10 == 9 else "Completed"
    return WriteBatch(
        creates=[RunCreate(run_id, experiment_id, "Running", now, start_time=now)],
        tags=[TagChange(run_id, dict(tags(i)))],
        properties=[PropertyChange(run_id, properties(i))],
        metrics={run_id: metrics},
        statuses=[StatusWrite(run_id, ACTIVE, status, {"start_time": now, "end_time": now})],
        claim=(run_id, uuid.uuid4().hex),
    )


def merged(batches: list[WriteBatch]) -> WriteBatch:
    """Batches of concurrent requests as the service stores them together."""
    if len(batches) == 1:
        return batches[0]
    group = WriteBatch(creates=[], updates=[], tags=[], properties=[], statuses=[])
    claims = []
    for batch in batches:
        for part in ("creates", "updates", "tags", "properties", "statuses"):
            getattr(group, part).extend(getattr(batch, part))
        group.metrics.update(batch.metrics)
        if batch.claim is not None:
            claims.append(batch.claim)
    group.claims = claims
    return group


class Variant:
    """A store on a fresh database with a schema variant, and the CPU time it used."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.store = SqlTrackingStore(url)
        self.experiment = self.store.create_experiment("b3").experiment_id
        with self.store._engine.connect() as conn:
            for sql in VARIANTS[name]:
                conn.exec_driver_sql(sql)
            conn.commit()
        self.database = url.rsplit("/", 1)[1]
        self.count = 0
        self.backend_ns = 0
        self.python_s = 0.0
        self.runs = 0

    def backend_pids(self, admin_url: str) -> list[int]:
        with _admin(admin_url) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)
            )
            return [int(r[0]) for r in rows]

    def block(self, groups: int, size: int, admin_url: str, measure: bool) -> None:
        """Store ``groups`` groups of ``size`` runs; with ``measure``, count their CPU."""
        todo = []
        for _ in range(groups):
            todo.append(merged([b3_batch(self.experiment, self.count + k) for k in range(size)]))
            self.count += size
        pids = self.backend_pids(admin_url)
        before, started = _on_cpu(pids), time.process_time()
        for group in todo:
            self.store.write_changes(group)
        if measure:
            self.python_s += time.process_time() - started
            self.backend_ns += _on_cpu(pids) - before
            self.runs += groups * size


def _on_cpu(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    return total


def measure(
    names: list[str], group: int, rounds: int, block: int, admin_url: str
) -> dict[str, Any]:
    """CPU per run of each variant (see the module's description)."""
    with contextlib.ExitStack() as stack:
        variants = [Variant(name, stack.enter_context(fresh_database(admin_url)))
                    for name in names]  # fmt: skip
        for variant in variants:  # warm: connections, prepared statements
            variant.block(block, group, admin_url, measure=False)
        for i in range(rounds):
            for variant in variants if i % 2 == 0 else variants[::-1]:
                variant.block(block, group, admin_url, measure=True)
        result: dict[str, Any] = {"group": group, "runs_per_variant": variants[0].runs}
        for variant in variants:
            result[variant.name] = {
                "postgresql_ms_per_run": round(variant.backend_ns / variant.runs / 1e6, 3),
                "python_ms_per_run": round(variant.python_s * 1000 / variant.runs, 3),
            }
            variant.store._engine.dispose()
        result["load"] = [round(x, 2) for x in os.getloadavg()]
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--group", type=int, default=1, help="runs stored together")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--block", type=int, default=50, help="groups per turn")
    parser.add_argument("--variants", nargs="+", default=["shipped"], choices=list(VARIANTS))
    parser.add_argument("--postgres", default=os.environ.get("RHBENCH_POSTGRES", DEFAULT_POSTGRES))
    args = parser.parse_args()
    print(json.dumps(measure(args.variants, args.group, args.rounds, args.block, args.postgres)))


if __name__ == "__main__":
    main()
