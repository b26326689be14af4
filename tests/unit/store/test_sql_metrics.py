"""SqlTrackingStore metrics: kinds, sequence numbers, batches, value round trips."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from runhistory.errors import InvalidMetricError, NotFoundError
from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import (
    VTYPE_BOOL,
    VTYPE_FLOAT,
    VTYPE_INT,
    VTYPE_JSON,
    VTYPE_NAN,
    VTYPE_STR,
    MetricWrite,
    RunInfo,
)
from support import writes

MakeRun = Callable[..., RunInfo]
Point = tuple[int | None, int, float | None, str | None, float]


def floats(name: str, values: list[float], first_step: int | None = None) -> MetricWrite:
    points: list[Point] = [
        (None if first_step is None else first_step + i, VTYPE_FLOAT, v, None, 100.0 + i)
        for i, v in enumerate(values)
    ]
    return MetricWrite(name, "scalar", points)


@pytest.fixture
def run(make_run: MakeRun) -> RunInfo:
    return make_run("r")


def values(store: SqlTrackingStore, name: str, run_id: str = "r") -> list[Any]:
    return [p.value for p in store.get_metric_points(run_id, name)]


@pytest.mark.usefixtures("run")
def test_log_and_read_points(store: SqlTrackingStore) -> None:
    write = MetricWrite("loss", "scalar", [(0, VTYPE_FLOAT, 0.5, None, 10.0)], "the loss")
    assert writes.log_metrics(store, "r", [write]) is True
    [point] = store.get_metric_points("r", "loss")
    assert (point.seq, point.step, point.value, point.time) == (0, 0, 0.5, 10.0)
    [info] = store.get_metric_infos("r")
    assert (info.run_id, info.name, info.kind, info.description) == (
        "r",
        "loss",
        "scalar",
        "the loss",
    )
    assert (info.count, info.has_step, info.last_value, info.last_step) == (1, True, 0.5, 0)
    assert info.updated_time == 10.0


@pytest.mark.usefixtures("run")
def test_values_round_trip_faithfully(store: SqlTrackingStore) -> None:
    doc = {"a": [1, 2.5, None], "b": {"c": "d"}}
    points: list[Point] = [
        (None, VTYPE_FLOAT, math.inf, None, 1.0),
        (None, VTYPE_FLOAT, -math.inf, None, 1.0),
        (None, VTYPE_NAN, None, None, 1.0),
        (None, VTYPE_FLOAT, 1e-300, None, 1.0),
        (None, VTYPE_INT, 2**52 + 1, None, 1.0),
        (None, VTYPE_INT, -3, None, 1.0),
        (None, VTYPE_BOOL, 1.0, None, 1.0),
        (None, VTYPE_BOOL, 0.0, None, 1.0),
        (None, VTYPE_STR, None, "héllo\ttab\nline \\ ' \"", 1.0),
        (None, VTYPE_STR, None, "", 1.0),
        (None, VTYPE_JSON, None, orjson.dumps(doc).decode(), 1.0),
    ]
    writes.log_metrics(store, "r", [MetricWrite("m", "list", points)])
    got = values(store, "m")
    assert got[:2] == [math.inf, -math.inf]
    assert isinstance(got[2], float) and math.isnan(got[2])
    assert got[3:] == [1e-300, 2**52 + 1, -3, True, False, "héllo\ttab\nline \\ ' \"", "", doc]
    assert [type(v) for v in got[4:8]] == [int, int, bool, bool]
    assert store.get_metric_infos("r")[0].last_value == doc


@pytest.mark.usefixtures("run")
def test_sequence_continues_across_batches(store: SqlTrackingStore) -> None:
    writes.log_metrics(store, "r", [floats("a", [1.0, 2.0]), floats("b", [9.0])])
    writes.log_metrics(store, "r", [floats("a", [3.0]), floats("a", [4.0, 5.0])])
    writes.log_metrics(store, "r", [floats("a", [6.0])], batch_id="x")
    points = store.get_metric_points("r", "a")
    assert [p.seq for p in points] == [0, 1, 2, 3, 4, 5]
    assert [p.value for p in points] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert [p.seq for p in store.get_metric_points("r", "b")] == [0]
    infos = {info.name: info for info in store.get_metric_infos("r")}
    assert (infos["a"].count, infos["a"].last_value, infos["b"].count) == (6, 6.0, 1)


@pytest.mark.usefixtures("run")
def test_batch_ids_make_writes_idempotent(store: SqlTrackingStore, make_run: MakeRun) -> None:
    assert writes.log_metrics(store, "r", [floats("a", [1.0])], batch_id="batch-1") is True
    assert writes.log_metrics(store, "r", [floats("a", [1.0])], batch_id="batch-1") is False
    assert writes.log_metrics(store, "r", [floats("a", [2.0])], batch_id="batch-2") is True
    assert values(store, "a") == [1.0, 2.0]
    make_run("other")  # batch ids are per run
    assert writes.log_metrics(store, "other", [floats("a", [1.0])], batch_id="batch-1") is True


@pytest.mark.usefixtures("run")
def test_kind_mismatch_is_rejected_whole(store: SqlTrackingStore) -> None:
    writes.log_metrics(store, "r", [floats("acc", [1.0])])
    table = MetricWrite("acc", "table", [(None, VTYPE_JSON, None, "{}", 1.0)])
    with pytest.raises(InvalidMetricError, match=r"'acc'.*'scalar'.*'table'"):
        writes.log_metrics(store, "r", [floats("ok", [1.0]), table], batch_id="b")
    # Nothing of the failed call was stored, not even its batch id.
    assert [info.name for info in store.get_metric_infos("r")] == ["acc"]
    assert writes.log_metrics(store, "r", [floats("ok", [1.0])], batch_id="b") is True


@pytest.mark.usefixtures("run")
def test_has_step_is_decided_by_the_first_write(store: SqlTrackingStore) -> None:
    writes.log_metrics(store, "r", [MetricWrite("empty", "scalar", [])])
    writes.log_metrics(store, "r", [floats("stepped", [1.0], first_step=0)])
    writes.log_metrics(store, "r", [floats("plain", [1.0])])
    writes.log_metrics(store, "r", [floats("plain", [2.0], first_step=7)])
    infos = {info.name: info for info in store.get_metric_infos("r")}
    assert (infos["empty"].count, infos["empty"].has_step, infos["empty"].last_value) == (
        0, None, None,
    )  # fmt: skip
    assert infos["stepped"].has_step is True
    assert (infos["plain"].has_step, infos["plain"].last_step) == (False, 7)


@pytest.mark.usefixtures("run")
def test_metric_infos_ordered_by_name(store: SqlTrackingStore) -> None:
    writes.log_metrics(store, "r", [floats("b", [1.0]), floats("a", [1.0]), floats("C", [1.0])])
    assert [info.name for info in store.get_metric_infos("r")] == sorted(["a", "b", "C"])


@pytest.mark.usefixtures("run")
def test_points_in_a_step_range(store: SqlTrackingStore) -> None:
    writes.log_metrics(store, "r", [floats("m", [float(i) for i in range(10)], first_step=0)])
    assert [p.step for p in store.get_metric_points("r", "m", min_step=3, max_step=5)] == [3, 4, 5]
    assert [p.step for p in store.get_metric_points("r", "m", min_step=8)] == [8, 9]
    assert [p.step for p in store.get_metric_points("r", "m", max_step=0)] == [0]


@pytest.mark.usefixtures("run")
def test_points_in_a_range_of_logging_times(store: SqlTrackingStore) -> None:
    for batch in range(3):  # one step for every point, times 100.0 to 114.0 in three batches
        points: list[Point] = [(0, VTYPE_FLOAT, float(batch * 5 + i), None,
                                100.0 + batch * 5 + i) for i in range(5)]  # fmt: skip
        writes.log_metrics(store, "r", [MetricWrite("m", "scalar", points)])
    found = store.get_metric_columns("r", "m", 0, 0, times=(104.0, 106.0))
    assert (found.values, found.times) == ([4.0, 5.0, 6.0], [104.0, 105.0, 106.0])
    assert store.get_metric_columns("r", "m", 1, 1, times=(104.0, 106.0)).values == []
    assert store.get_metric_columns("r", "m", times=(200.0, 300.0)).values == []


@pytest.mark.usefixtures("run")
def test_missing_run_or_metric(store: SqlTrackingStore) -> None:
    with pytest.raises(NotFoundError, match="no run with id 'ghost'"):
        writes.log_metrics(store, "ghost", [floats("a", [1.0])])
    with pytest.raises(NotFoundError, match="no run with id 'ghost'"):
        store.get_metric_infos("ghost")
    with pytest.raises(NotFoundError, match="no metric 'nope' in run 'r'"):
        store.get_metric_points("r", "nope")


def test_last_values_of_many_runs(store: SqlTrackingStore, make_run: MakeRun) -> None:
    make_run("a")
    make_run("b")
    make_run("c")
    writes.log_metrics(store, "a", [floats("loss", [3.0, 2.0]), floats("acc", [0.5])])
    writes.log_metrics(
        store, "b", [MetricWrite("flag", "list", [(None, VTYPE_BOOL, 1.0, None, 1.0)])]
    )
    writes.log_metrics(
        store, "b", [MetricWrite("tbl", "table", [(None, VTYPE_JSON, None, "{}", 1.0)])]
    )
    writes.log_metrics(
        store, "b", [MetricWrite("nan", "scalar", [(None, VTYPE_NAN, None, None, 1.0)])]
    )
    last = store.get_last_metric_values(["a", "b", "c"])
    assert last["a"] == {"loss": 2.0, "acc": 0.5}
    assert last["b"]["flag"] is True and math.isnan(last["b"]["nan"]) and "tbl" not in last["b"]
    assert last["c"] == {}
    assert store.get_last_metric_values(["a", "b"], names=["loss"]) == {"a": {"loss": 2.0}, "b": {}}
    assert store.get_last_metric_values([]) == {}


@pytest.mark.usefixtures("run")
def test_many_points_in_one_call(store: SqlTrackingStore) -> None:
    n = 20_000
    now = time.time()
    write = MetricWrite("big", "scalar", [(i, VTYPE_FLOAT, i / 2, None, now) for i in range(n)])
    writes.log_metrics(store, "r", [write])
    points = store.get_metric_points("r", "big")
    assert len(points) == n and points[-1].seq == n - 1 and points[-1].value == (n - 1) / 2


def _chunk_count(store: SqlTrackingStore) -> int:
    from sqlalchemy import func, select

    from runhistory.store.sql.schema import metric_chunks

    with store._engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(metric_chunks)).scalar_one())


def test_a_single_point_lives_in_its_metric_row_until_more_come(
    store: SqlTrackingStore, run: RunInfo
) -> None:
    document = {"epoch": 1, "loss": 0.5}
    writes.log_metrics(
        store,
        "r",
        [
            floats("stepped", [0.5], first_step=10),
            MetricWrite("text", "scalar", [(None, VTYPE_STR, None, "adam", 7.0)]),
            MetricWrite(
                "row", "row", [(None, VTYPE_JSON, None, orjson.dumps(document).decode(), 8.0)]
            ),
        ],
    )
    assert _chunk_count(store) == 0
    one = store.get_metric_columns("r", "stepped")
    assert (one.seqs, one.steps, one.values, one.times) == ([0], [10], [0.5], [100.0])
    assert store.get_metric_columns("r", "text").values == ["adam"]
    assert store.get_metric_columns("r", "row").values == [document]
    assert store.get_metric_columns("r", "stepped", min_step=11).values == []
    # More points: the one in the row becomes the first of a chunk, in order.
    writes.log_metrics(store, "r", [floats("stepped", [0.25, 0.125], first_step=11)])
    more = store.get_metric_columns("r", "stepped")
    assert (more.seqs, more.steps, more.values) == ([0, 1, 2], [10, 11, 12], [0.5, 0.25, 0.125])
    assert more.times == [100.0, 100.0, 101.0]
    # Two writes of one name in one call: the first leaves one point, the second joins it.
    writes.log_metrics(store, "r", [floats("twice", [1.0]), floats("twice", [2.0, 3.0])])
    assert store.get_metric_columns("r", "twice").values == [1.0, 2.0, 3.0]
    [info] = [i for i in store.get_metric_infos("r") if i.name == "twice"]
    assert (info.count, info.last_value) == (3, 3.0)
    series = {s.name: s for s in store.get_metric_series(["r"], ["stepped", "text"], 10)}
    assert series["stepped"].x == [10, 11, 12] and series["text"].x == []
