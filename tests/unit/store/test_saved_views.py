"""Saved views of an experiment's runs table on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from runhistory.errors import NotFoundError
from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import ExperimentInfo


def test_views_are_saved_replaced_listed_and_deleted(
    store: SqlTrackingStore, experiment: ExperimentInfo
) -> None:
    experiment_id = experiment.experiment_id
    assert store.list_views(experiment_id) == []
    first = store.save_view(experiment_id, "best", "sort=-metric%3Aloss")
    store.save_view(experiment_id, "Ämter & co", "q=resnet")
    again = store.save_view(experiment_id, "best", "sort=metric%3Aloss&cols=min%3Aloss")
    assert again.created_time == first.created_time and again.updated_time >= first.updated_time
    listed = store.list_views(experiment_id)
    assert [(v.name, v.state) for v in listed] == [
        ("best", "sort=metric%3Aloss&cols=min%3Aloss"), ("Ämter & co", "q=resnet"),
    ]  # fmt: skip
    store.delete_view(experiment_id, "best")
    assert [v.name for v in store.list_views(experiment_id)] == ["Ämter & co"]
    with pytest.raises(NotFoundError, match="no view named 'best'"):
        store.delete_view(experiment_id, "best")
    with pytest.raises(NotFoundError):
        store.save_view("no-such-experiment", "x", "")
    store.delete_experiment(experiment_id)  # its views go with it
