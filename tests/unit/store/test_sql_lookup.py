"""Many runs at once: ``get_runs`` and ``get_metric_infos_of`` answer as the one-run reads do."""

from __future__ import annotations

import time

from conftest import MakeRun
from runhistory.store.base import TrackingStore
from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import VTYPE_FLOAT, MetricWrite
from support import writes


def _scalar(name: str, values: list[float]) -> MetricWrite:
    points = [(i, VTYPE_FLOAT, v, None, time.time()) for i, v in enumerate(values)]
    return MetricWrite(name, "scalar", points)


def test_runs_and_infos_of_many_ids_match_the_one_run_reads(
    store: SqlTrackingStore, make_run: MakeRun
) -> None:
    ids = [
        make_run(f"run-{i}", run_definition={"n": i}, tags={"k": str(i)}).run_id for i in range(3)
    ]
    writes.log_metrics(store, ids[0], [_scalar("loss", [0.5, 0.25]), _scalar("acc", [0.1])])
    writes.log_metrics(store, ids[2], [_scalar("acc", [0.9])])
    asked = [ids[2], "nope", ids[0], ids[2]]

    found = store.get_runs(asked)
    assert [r.run_id for r in found] == [ids[2], ids[0]]
    assert all(r.run_definition is None for r in found)
    full = store.get_runs(asked, with_definition=True)
    assert full == [store.get_run(ids[2]), store.get_run(ids[0])]

    infos = store.get_metric_infos_of(asked)
    assert infos == store.get_metric_infos(ids[2]) + store.get_metric_infos(ids[0])
    # the base class's one-by-one reading gives the same answers
    assert TrackingStore.get_runs(store, asked, True) == full
    assert TrackingStore.get_metric_infos_of(store, asked) == infos
