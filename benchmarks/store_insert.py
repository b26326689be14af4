"""How fast ``SqlTrackingStore.write_changes`` appends metric points on SQLite.

Prints rows/s for inserting ``--points`` points (spread over ``--metrics`` metrics of one run)
in batches of ``--batch``, once per table layout of ``metric_points``: the shipped
``WITHOUT ROWID`` table clustered on (metric_id, seq), and a classic rowid table with the
primary key as a separate index. No assertions; numbers depend on the machine.

    python benchmarks/store_insert.py --points 1000000 --batch 10000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import VTYPE_FLOAT, MetricWrite, RunCreate, WriteBatch

_ROWID_TABLE = """
CREATE TABLE metric_points (
    metric_id BIGINT NOT NULL REFERENCES metrics (id), seq BIGINT NOT NULL, step BIGINT,
    vtype SMALLINT NOT NULL, value DOUBLE, text TEXT, time DOUBLE NOT NULL,
    PRIMARY KEY (metric_id, seq)
)
"""


def _use_rowid_table(path: Path) -> None:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE metric_points")
        conn.execute(_ROWID_TABLE)


def _batches(points: int, batch: int, metrics: int) -> list[list[MetricWrite]]:
    per_metric = batch // metrics
    now = time.time()
    batches = []
    for start in range(0, points, batch):
        writes = [
            MetricWrite(
                name=f"metric_{m}",
                kind="scalar",
                points=[(start + i, VTYPE_FLOAT, float(i), None, now) for i in range(per_metric)],
            )
            for m in range(metrics)
        ]
        batches.append(writes)
    return batches


def measure(layout: str, points: int, batch: int, metrics: int) -> float:
    """Rows per second for one table layout (``without_rowid`` or ``rowid``)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        uri = f"sqlite:///{path}"
        SqlTrackingStore(uri).close()
        if layout == "rowid":
            _use_rowid_table(path)
        store = SqlTrackingStore(uri)
        experiment = store.create_experiment("bench")
        create = RunCreate("run", experiment.experiment_id, "Running", time.time())
        store.write_changes(WriteBatch(creates=[create]))
        batches = _batches(points, batch, metrics)
        started = time.perf_counter()
        for writes in batches:
            store.write_changes(WriteBatch(metrics={"run": writes}))
        elapsed = time.perf_counter() - started
        stored = sum(info.count for info in store.get_metric_infos("run"))
        store.close()
    return stored / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--layout", choices=["without_rowid", "rowid", "both"], default="both")
    args = parser.parse_args()
    layouts = ["without_rowid", "rowid"] if args.layout == "both" else [args.layout]
    print(f"{'layout':<15} {'points':>10} {'batch':>7} {'rows/s':>12}")
    for layout in layouts:
        rate = measure(layout, args.points, args.batch, args.metrics)
        print(f"{layout:<15} {args.points:>10} {args.batch:>7} {rate:>12,.0f}")


if __name__ == "__main__":
    main()
