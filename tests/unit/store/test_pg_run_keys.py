"""PostgreSQL's run keys go in as one JSON parameter: every key row holds its run's exact
creation time and number, and values as the run's documents hold them (keyed as text)."""

from __future__ import annotations

import psycopg

from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import RunCreate, WriteBatch


def test_key_rows_match_their_runs_exactly(postgres_database: str) -> None:
    from support.services import fresh_schema

    url = fresh_schema(postgres_database)
    store = SqlTrackingStore(url)
    try:
        experiment = store.create_experiment("keys").experiment_id
        times = [1796305800.2935138, 0.1 + 0.2, 1e-7, 1796305801.0]
        tags = {"quote": 'say "hi"\\', "accent": "café ✓", "empty": None}
        creates = [
            RunCreate(f"run-{i}", experiment, "Running", t, tags=tags,
                      properties={"seed": str(i), "line": "a\nb"})
            for i, t in enumerate(times)
        ]  # fmt: skip
        store.write_changes(WriteBatch(creates=creates))
    finally:
        store.close()
    with psycopg.connect(url) as conn:
        runs = {
            r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, created_time, number FROM runs")
        }
        keys = conn.execute(
            "SELECT run_id, kind, key, value, created_time, number FROM run_keys"
        ).fetchall()
    assert len(keys) == len(times) * 5
    for run_id, kind, key, value, created_time, number in keys:
        assert (created_time, number) == runs[run_id]
        if kind == 0:
            assert value == (tags[key] or "")
        else:
            assert value == {"seed": run_id.split("-")[1], "line": "a\nb"}[key]
    assert sorted(t for t, _ in runs.values()) == sorted(times)
