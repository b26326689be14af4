"""Chart series: at most ``max_points`` per series, spikes kept, full resolution when zoomed."""

from __future__ import annotations

import math
import time

from conftest import MakeRun
from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import VTYPE_FLOAT, VTYPE_STR, MetricWrite
from support import writes

POINTS = 20_000
SPIKE_STEP = 12_345


def _wave(count: int, spike_at: int | None = None) -> MetricWrite:
    now = time.time()
    points = [
        (i, VTYPE_FLOAT, 100.0 if i == spike_at else math.sin(i / 500), None, now)
        for i in range(count)
    ]
    return MetricWrite("loss", "scalar", points)


def test_big_series_are_downsampled_and_keep_their_spike(
    store: SqlTrackingStore, make_run: MakeRun
) -> None:
    make_run("a")
    make_run("b")
    writes.log_metrics(store, "a", [_wave(POINTS, SPIKE_STEP)])
    writes.log_metrics(store, "b", [_wave(POINTS)])
    series = store.get_metric_series(["a", "b"], ["loss"], max_points=200)
    assert [(s.run_id, s.count, s.downsampled) for s in series] == [
        ("a", POINTS, True),
        ("b", POINTS, True),
    ]
    spiky = series[0]
    assert len(spiky.x) <= 200 and len(spiky.x) == len(spiky.y)
    assert max(spiky.y) == 100.0
    assert spiky.x[spiky.y.index(100.0)] == SPIKE_STEP
    assert spiky.x == sorted(spiky.x)
    assert min(series[1].y) < -0.99 and max(series[1].y) > 0.99


def test_a_zoomed_range_that_fits_comes_at_full_resolution(
    store: SqlTrackingStore, make_run: MakeRun
) -> None:
    make_run("a")
    writes.log_metrics(store, "a", [_wave(POINTS, SPIKE_STEP)])
    [zoomed] = store.get_metric_series(["a"], ["loss"], 200, min_step=12_300, max_step=12_399)
    assert not zoomed.downsampled
    assert zoomed.x == list(range(12_300, 12_400))
    assert zoomed.y[SPIKE_STEP - 12_300] == 100.0


def test_small_series_unchanged_and_missing_pairs_left_out(
    store: SqlTrackingStore, make_run: MakeRun
) -> None:
    make_run("a")
    now = time.time()
    writes.log_metrics(
        store,
        "a",
        [
            MetricWrite("acc", "scalar", [(None, VTYPE_FLOAT, 0.5, None, now)] * 3),
            MetricWrite("opt", "scalar", [(None, VTYPE_STR, None, "adam", now)]),
        ],
    )
    series = store.get_metric_series(["a", "nope"], ["acc", "opt", "missing"], max_points=100)
    by_name = {s.name: s for s in series}
    assert set(by_name) == {"acc", "opt"}
    assert by_name["acc"].x == [0, 1, 2] and by_name["acc"].y == [0.5] * 3
    assert by_name["opt"].x == [] and by_name["opt"].count == 1  # strings are not charted


def test_block_summaries_give_the_series_the_chunks_give(
    store: SqlTrackingStore, make_run: MakeRun
) -> None:
    """Blocks are completed across writes of odd sizes; reading them or the chunks they
    summarise draws the same chart."""
    from sqlalchemy import delete, func, select

    from runhistory.store.sql._summaries import SUMMARY_BLOCK_POINTS
    from runhistory.store.sql.schema import metric_summaries

    make_run("a")
    wave = _wave(3 * 25_001, spike_at=40_000)
    for start in range(0, len(wave.points), 25_001):  # blocks end inside the 2nd and 3rd write
        writes.log_metrics(
            store, "a", [MetricWrite("loss", "scalar", wave.points[start : start + 25_001])]
        )
    with store._engine.connect() as conn:
        blocks = conn.execute(select(func.count()).select_from(metric_summaries)).scalar()
    assert blocks == len(wave.points) // SUMMARY_BLOCK_POINTS == 2
    from_blocks = store.get_metric_series(["a"], ["loss"], max_points=300)
    zoomed = store.get_metric_series(["a"], ["loss"], 300, min_step=30_000, max_step=70_000)
    with store._engine.begin() as conn:
        conn.execute(delete(metric_summaries))
    assert store.get_metric_series(["a"], ["loss"], max_points=300) == from_blocks
    assert store.get_metric_series(["a"], ["loss"], 300, 30_000, 70_000) == zoomed
    assert from_blocks[0].downsampled and 100.0 in from_blocks[0].y
    assert zoomed[0].x[zoomed[0].y.index(100.0)] == 40_000


def test_series_by_time_are_placed_and_bucketed_by_logging_time(
    store: SqlTrackingStore, make_run: MakeRun
) -> None:
    make_run("a")
    start = 1_700_000_000.0
    # Steps restart halfway (a resumed run) while time goes on: by time the curve is one line.
    points = [
        (i % (POINTS // 2), VTYPE_FLOAT, 100.0 if i == SPIKE_STEP else math.sin(i / 500), None,
         start + i * 0.5)
        for i in range(POINTS)
    ]  # fmt: skip
    writes.log_metrics(store, "a", [MetricWrite("loss", "scalar", points)])
    [by_time] = store.get_metric_series(["a"], ["loss"], max_points=200, x="time")
    assert by_time.downsampled and by_time.count == POINTS
    assert 100 <= len(by_time.x) <= 200 and len(by_time.x) == len(by_time.y)
    assert by_time.x == sorted(by_time.x)
    assert by_time.x[0] == start and by_time.x[-1] == start + (POINTS - 1) * 0.5
    assert by_time.x[by_time.y.index(100.0)] == start + SPIKE_STEP * 0.5
    [small] = store.get_metric_series(["a"], ["loss"], 200, min_step=0, max_step=49, x="time")
    assert not small.downsampled and len(small.x) == 100  # steps 0-49 of both halves
    assert small.x == [start + i * 0.5 for i in [*range(50), *range(10_000, 10_050)]]
