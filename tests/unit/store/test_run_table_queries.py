"""The runs table's listings on SQLite and PostgreSQL: orders by any column, comparisons on
properties, tags and metrics, free text, all keyset-paged (every run once, in order)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runhistory.artifacts import open_artifact_store
from runhistory.errors import ValidationError
from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import (
    VTYPE_FLOAT,
    VTYPE_NAN,
    VTYPE_STR,
    MetricWrite,
    RunCreate,
    WriteBatch,
)
from runhistory.tracking.service import TrackingService
from support import writes

RUNS = 23


@pytest.fixture
def service(store: SqlTrackingStore, tmp_path: Path) -> TrackingService:
    """A service over the store, with runs 0..22: property ``lr`` (numbers, one text value,
    one missing), tag ``group``, metric ``loss`` (one text value, one NaN, one missing)."""
    made = TrackingService(store, open_artifact_store(str(tmp_path / "files")))
    experiment = store.create_experiment("table")
    for i in range(RUNS):
        properties = {"lr": "n/a" if i == 5 else str(i % 7 / 10), "seed": str(i)}
        if i == 6:
            properties.pop("lr")
        writes.create_run(
            store, f"run-{i:02d}", experiment.experiment_id, "Completed" if i % 3 else "Failed",
            1000.0 + i // 2, display_name=f"Trial {i}", tags={"group": f"g{i % 4}"},
            properties=properties, run_type="azureml.scriptrun", target="local",
        )  # fmt: skip
        if i == 8:
            continue
        if i == 9:
            point: tuple[Any, ...] = (None, VTYPE_STR, None, "diverged", 1.0)
        elif i == 10:
            point = (None, VTYPE_NAN, None, None, 1.0)
        else:
            point = (None, VTYPE_FLOAT, (i * 37 % 11) / 10, None, 1.0)
        writes.log_metrics(store, f"run-{i:02d}", [MetricWrite("loss", "scalar", [point])])
    made.experiment_id = experiment.experiment_id  # type: ignore[attr-defined]
    return made


def listed(service: TrackingService, page_size: int = 4, **filters: Any) -> list[int]:
    """Run numbers of every page of a listing, checking each page is a keyset page."""
    found: list[int] = []
    token = None
    experiment_id = service.experiment_id  # type: ignore[attr-defined]
    while True:
        page = service.search_runs_page(
            experiment_id=experiment_id, page_size=page_size, page_token=token, **filters
        )
        found.extend(r.number for r in page.items)
        token = page.next_page_token
        if token is None:
            break
    assert len(found) == len(set(found)), f"a run was listed twice: {found}"
    count = service.count_matching_runs(
        experiment_id=experiment_id, where=filters.get("where"), text=filters.get("text"),
        status=filters.get("status"),
    )  # fmt: skip
    assert count == len(found)
    return found


def numbers_by(service: TrackingService, key: Any, reverse: bool) -> list[int]:
    runs = service.search_runs(experiment_id=service.experiment_id)  # type: ignore[attr-defined]
    present = [r for r in runs if key(r) is not None]
    missing = sorted((r.number for r in runs if key(r) is None), reverse=reverse)
    numbers = [r for r in present if isinstance(key(r), float)]
    texts = [r for r in present if isinstance(key(r), str)]
    ordered = [*sorted(numbers, key=lambda r: (key(r), r.number), reverse=reverse),
               *sorted(texts, key=lambda r: (key(r), r.number), reverse=reverse)]  # fmt: skip
    return [r.number for r in ordered] + missing


def lr(run: Any) -> float | str | None:
    value = run.properties.get("lr")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return str(value)


@pytest.mark.parametrize("desc", [False, True])
def test_sorting_by_a_property_pages_numbers_then_text_then_missing(
    service: TrackingService, desc: bool
) -> None:
    sort = "-property:lr" if desc else "property:lr"
    assert listed(service, sort=sort) == numbers_by(service, lr, desc)


def test_sorting_by_a_metric_uses_its_last_value(service: TrackingService) -> None:
    values = {i: (i * 37 % 11) / 10 for i in range(RUNS) if i not in (8, 9, 10)}
    ascending = sorted(values, key=lambda i: (values[i], i))
    # numbers, then the text value (run 9), then NaN and no metric (runs 8, 10) by number
    assert listed(service, sort="metric:loss") == [n + 1 for n in ascending] + [10, 9, 11]
    descending = sorted(values, key=lambda i: (values[i], i), reverse=True)
    assert listed(service, page_size=5, sort="-metric:loss") == [
        *(n + 1 for n in descending), 10, 11, 9,
    ]  # fmt: skip


def test_built_in_orders(service: TrackingService) -> None:
    assert listed(service) == list(range(RUNS, 0, -1))  # newest first by default
    assert listed(service, sort="created") == list(range(1, RUNS + 1))
    assert listed(service, sort="number", page_size=7) == list(range(1, RUNS + 1))
    names = sorted(range(RUNS), key=lambda i: f"trial {i}")
    assert listed(service, sort="name") == [i + 1 for i in names]
    failed = [n for n in range(RUNS, 0, -1) if (n - 1) % 3 == 0]
    completed = [n for n in range(RUNS, 0, -1) if (n - 1) % 3]
    assert listed(service, sort="-status") == failed + completed  # "Failed" > "Completed"
    assert listed(service, sort="duration") == list(range(1, RUNS + 1))  # none has ended


def test_comparisons_on_properties_tags_and_metrics(service: TrackingService) -> None:
    low = [i + 1 for i in range(RUNS) if i not in (5, 6) and i % 7 / 10 < 0.3]
    assert sorted(listed(service, where=["property:lr<0.3"])) == low
    assert sorted(listed(service, where=["property:lr=0.20"])) == [
        i + 1 for i in range(RUNS) if i not in (5, 6) and i % 7 == 2
    ]  # numeric equality: 0.20 == 0.2
    assert listed(service, where=["property:lr=n/a"]) == [6]
    assert sorted(listed(service, where=["tag:group=g1", "metric:loss>=0.5"])) == [
        i + 1 for i in range(RUNS)
        if i % 4 == 1 and i not in (8, 9, 10) and (i * 37 % 11) / 10 >= 0.5
    ]  # fmt: skip
    assert listed(service, where=["metric:loss=diverged"]) == [10]
    failed = listed(service, where=["property:seed>10"], status="Failed", sort="property:seed")
    assert failed == [i + 1 for i in range(11, RUNS) if i % 3 == 0]


def test_free_text_matches_every_word(service: TrackingService) -> None:
    assert listed(service, text="TRIAL RUN-17") == [18]  # name and id, any case
    assert listed(service, text="g3 trial") == [n for n in range(RUNS, 0, -1) if (n - 1) % 4 == 3]
    assert listed(service, text="#12") == [12]  # the run number
    assert listed(service, text="100%_") == []  # LIKE wildcards are matched literally


def test_a_token_of_another_order_or_filter_is_refused(service: TrackingService) -> None:
    experiment_id = service.experiment_id  # type: ignore[attr-defined]
    first = service.search_runs_page(experiment_id=experiment_id, page_size=3, sort="name")
    assert first.next_page_token is not None
    for other in ({"sort": "-name"}, {"sort": "name", "where": ["property:lr<1"]}, {}):
        with pytest.raises(ValidationError, match="page_token"):
            service.search_runs_page(
                experiment_id=experiment_id, page_size=3, page_token=first.next_page_token,
                **other,
            )  # fmt: skip


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"where": ["property:lr<high"]}, "needs a number"),
        ({"where": ["lr<0.1"]}, "cannot read the filter"),
        ({"sort": "bogus"}, "cannot sort runs"),
        ({"sort": "property:"}, "cannot sort runs"),
    ],
)
def test_unreadable_filters_and_orders_are_refused(
    service: TrackingService, filters: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        service.search_runs_page(experiment_id=service.experiment_id, **filters)  # type: ignore[attr-defined]


def test_child_counts(service: TrackingService, store: SqlTrackingStore) -> None:
    parent = service.search_runs(experiment_id=service.experiment_id)[0]  # type: ignore[attr-defined]
    for i in range(3):
        writes.create_run(
            store, f"child-{i}", parent.experiment_id, "Completed", 2000.0 + i,
            parent_run_id=parent.run_id,
        )  # fmt: skip
    assert service.count_children([parent.run_id, "run-00"]) == {parent.run_id: 3}


def test_metric_extremes_are_kept_by_the_write_path(
    service: TrackingService, store: SqlTrackingStore
) -> None:
    def points(*values: float | None) -> MetricWrite:
        return MetricWrite("acc", "scalar", [
            (None, VTYPE_NAN if v is None else VTYPE_FLOAT, v, None, 1.0) for v in values
        ])  # fmt: skip

    writes.log_metrics(store, "run-00", [points(0.3)])  # one point: kept in the row
    writes.log_metrics(store, "run-00", [points(0.2, None, 0.9)])  # then chunks
    writes.log_metrics(store, "run-00", [points(0.5)])
    writes.log_metrics(store, "run-01", [points(None)])  # no numeric value
    writes.log_metrics(store, "run-02", [points(0.1, 0.4)])
    batch = WriteBatch(
        creates=[RunCreate("run-new", service.experiment_id, "Completed", 5000.0)],  # type: ignore[attr-defined]
        metrics={"run-new": [points(0.7, 0.05)]},
    )  # a new run's metrics are written with it
    store.write_changes(batch)
    ids = ["run-00", "run-01", "run-02", "run-new"]
    assert store.get_last_metric_values(ids, ["acc"], value="min") == {
        "run-00": {"acc": 0.2}, "run-01": {}, "run-02": {"acc": 0.1}, "run-new": {"acc": 0.05},
    }  # fmt: skip
    assert store.get_last_metric_values(ids, ["acc"], value="max") == {
        "run-00": {"acc": 0.9}, "run-01": {}, "run-02": {"acc": 0.4}, "run-new": {"acc": 0.7},
    }  # fmt: skip
    by_max = listed(service, sort="-max:acc")
    assert by_max[:4] == [1, 24, 3, 23]  # 0.9, 0.7, 0.4, then runs without a value (newest)
    assert sorted(listed(service, where=["min:acc<0.15"])) == [3, 24]


def test_runs_grouped_by_a_property_with_a_metric_mean(service: TrackingService) -> None:
    experiment_id = service.experiment_id  # type: ignore[attr-defined]
    groups = service.group_runs(experiment_id, "tag:group", metric="loss")
    expected: dict[str, list[float]] = {}
    for i in range(RUNS):
        values = expected.setdefault(f"g{i % 4}", [])
        if i not in (8, 9, 10):
            values.append((i * 37 % 11) / 10)
    assert [(g.value, g.runs) for g in groups] == [
        ("g0", 6), ("g1", 6), ("g2", 6), ("g3", 5),
    ]  # largest first, then by value  # fmt: skip
    for group in groups:
        assert group.mean == pytest.approx(sum(expected[group.value]) / len(expected[group.value]))
    by_lr = service.group_runs(experiment_id, "property:lr", where=["property:seed>=10"])
    assert sum(g.runs for g in by_lr) == 13  # runs 10-22, all with an lr
    assert None not in {g.value for g in by_lr} and all(g.mean is None for g in by_lr)
    with pytest.raises(ValidationError, match="cannot group runs by"):
        service.group_runs(experiment_id, "metric:loss")
