"""Keyset pages of experiments on SQLite and PostgreSQL: ``list_experiments_page`` continues
after a (created time, name, id) position, oldest first, for every view type and a name."""

from __future__ import annotations

import pytest

from runhistory.store.sql import SqlTrackingStore


@pytest.fixture
def made(store: SqlTrackingStore) -> SqlTrackingStore:
    for i in range(17):
        found = store.create_experiment(f"exp-{i % 13:02d}" if i < 13 else f"late-{i}")
        if i % 4 == 0:
            store.update_experiment(found.experiment_id, archived_time=10.0)
    return store


@pytest.mark.parametrize("view_type", ["ActiveOnly", "ArchivedOnly", "All"])
@pytest.mark.parametrize("limit", [1, 3, 50])
def test_pages_put_together_are_the_listing(
    made: SqlTrackingStore, view_type: str, limit: int
) -> None:
    expected = [e.experiment_id for e in made.list_experiments(view_type=view_type)]
    assert expected
    seen: list[str] = []
    after = None
    while True:
        page = made.list_experiments_page(view_type=view_type, after=after, limit=limit)
        seen += [e.experiment_id for e in page]
        if len(page) < limit:
            break
        last = page[-1]
        after = (last.created_time, last.name, last.experiment_id)
    assert seen == expected
    named = made.list_experiments_page(name="exp-03", view_type=view_type, limit=10)
    assert [e.name for e in named] == [
        e.name for e in made.list_experiments(name="exp-03", view_type=view_type)
    ]
