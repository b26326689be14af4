"""Keyset pages of models on SQLite and PostgreSQL: ``list_models_page`` continues after a
(name, version) position in the listing order (name, then newest version first), with the
name and run filters, and its pages put together are the whole listing."""

from __future__ import annotations

import pytest

from runhistory.store.sql import SqlTrackingStore


@pytest.fixture
def registered(store: SqlTrackingStore) -> SqlTrackingStore:
    for i in range(23):
        name = ["b-model", "a-model", "c_model", "a-model-2"][i % 4]
        store.create_model_version(name, 1000.0 + i, run_id="r1" if i % 3 == 0 else None)
    return store


@pytest.mark.parametrize("limit", [1, 2, 5, 50])
@pytest.mark.parametrize("filters", [{}, {"name": "a-model"}, {"run_id": "r1"}], ids=str)
def test_pages_put_together_are_the_listing(
    registered: SqlTrackingStore, limit: int, filters: dict[str, str]
) -> None:
    expected = [m.model_id for m in registered.list_models(**filters)]
    assert expected
    seen: list[str] = []
    after = None
    while True:
        page = registered.list_models_page(**filters, after=after, limit=limit)
        seen += [m.model_id for m in page]
        if len(page) < limit:
            break
        after = (page[-1].name, page[-1].version)
    assert seen == expected


def test_a_position_past_every_version_of_a_name_goes_to_the_next_name(
    registered: SqlTrackingStore,
) -> None:
    found = registered.list_models_page(after=("a-model", 0), limit=3)
    assert [m.model_id for m in found] == ["a-model-2:5", "a-model-2:4", "a-model-2:3"]
    found = registered.list_models_page(after=("b-model", 4), limit=2)
    assert [m.model_id for m in found] == ["b-model:3", "b-model:2"]
    assert registered.list_models_page(after=("zzz", 1), limit=5) == []
