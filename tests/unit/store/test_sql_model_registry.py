"""Registered models in the SQL store (SQLite and PostgreSQL): the 0009 migration gives every
model name already registered its registered-model row; tags, aliases, rename and delete."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from runhistory.errors import ConflictError, NotFoundError
from runhistory.store.sql import SqlTrackingStore, open_store
from runhistory.store.sql.engine import create_store_engine, run_transaction
from runhistory.store.sql.migrate import upgrade_schema, upgrade_with_alembic


def test_upgrade_from_0007_registers_every_model_name(store_uri: str) -> None:
    engine = create_store_engine(store_uri)
    try:
        run_transaction(engine, lambda conn: upgrade_with_alembic(conn, "0007"))
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO models (name, version, created_time, run_id) VALUES "
                    "('churn', 1, 10.0, 'r1'), ('churn', 2, 20.0, 'r2'), ('iris', 1, 5.0, NULL)"
                )
            )
            conn.execute(text("INSERT INTO model_tags VALUES ('churn', 2, 'team', 'risk')"))
        if store_uri.startswith("postgresql"):  # a shared database is upgraded on purpose
            upgrade_schema(engine)
    finally:
        engine.dispose()
    store = open_store(store_uri)
    try:
        found = {m.name: m for m in store.list_registered_models()}
        assert sorted(found) == ["churn", "iris"]
        assert (found["churn"].created_time, found["churn"].updated_time) == (10.0, 20.0)
        assert found["churn"].tags == {} and found["churn"].aliases == {}
        version = store.get_model("churn", 2)
        assert (version.tags, version.stage, version.source) == ({"team": "risk"}, None, None)
    finally:
        store.close()


def test_registered_model_tags_aliases_rename_and_delete(store: SqlTrackingStore) -> None:
    store.create_registered_model("churn", 1.0, description="first", tags={"team": "risk"})
    with pytest.raises(ConflictError):
        store.create_registered_model("churn", 2.0)
    for _ in range(2):
        store.create_model_version("churn", 3.0, files=["model/MLmodel"], source="runs:/r/model")
    store.update_model("churn", 1, tags={"k": "v"}, stage="Staging", updated_time=4.0)
    model = store.update_registered_model("churn", 5.0, aliases={"champion": 2, "old": 1})
    assert model.aliases == {"champion": 2, "old": 1} and model.updated_time == 5.0
    with pytest.raises(NotFoundError):
        store.update_registered_model("churn", 6.0, aliases={"x": 9})

    renamed = store.rename_registered_model("churn", "churn-v2", 7.0)
    assert (renamed.name, renamed.description, renamed.tags) == ("churn-v2", "first",
                                                                 {"team": "risk"})  # fmt: skip
    assert renamed.aliases == {"champion": 2, "old": 1} and renamed.created_time == 1.0
    moved = store.get_model("churn-v2", 1)
    assert (moved.tags, moved.stage, moved.files) == ({"k": "v"}, "Staging", ["model/MLmodel"])
    assert store.list_models(name="churn") == []
    with pytest.raises(NotFoundError):
        store.get_registered_model("churn")

    store.delete_model("churn-v2", 1)  # the aliases naming it go with it
    assert store.get_registered_model("churn-v2").aliases == {"champion": 2}
    store.delete_registered_model("churn-v2")
    assert store.list_registered_models() == [] and store.list_models() == []
