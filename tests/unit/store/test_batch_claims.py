"""Batch ids of changes to stored runs: recorded in the batch's first statement, a retry is
skipped, a missing run is still refused by name; and PostgreSQL's pool replaces a connection
that died while idle."""

from __future__ import annotations

import time

import psycopg
import pytest

from conftest import MakeRun
from runhistory.errors import NotFoundError
from runhistory.store.sql import SqlTrackingStore
from runhistory.store.sql.engine import PING_AFTER_IDLE_SECONDS
from runhistory.tracking.entities import MetricWrite, PropertyChange, TagChange, WriteBatch
from support import services


def _write(name: str, *values: float) -> MetricWrite:
    now = time.time()
    return MetricWrite(name, "scalar", [(i, 0, v, None, now) for i, v in enumerate(values)])


def test_a_retried_batch_of_a_stored_run_is_skipped(
    store: SqlTrackingStore, make_run: MakeRun
) -> None:
    make_run("r1")
    tags, properties = [TagChange("r1", {"a": "1"})], [PropertyChange("r1", {"p": "x"})]
    first = WriteBatch(tags=tags, properties=properties, claim=("r1", "b1"))
    assert not store.write_changes(first).replayed
    retry = WriteBatch(tags=[TagChange("r1", {"a": "2"})], claim=("r1", "b1"))
    assert store.write_changes(retry).replayed
    run = store.get_run("r1")
    assert run.tags == {"a": "1"} and run.properties == {"p": "x"}
    other = WriteBatch(tags=[TagChange("r1", {"a": "3"})], claim=("r1", "b2"))
    assert not store.write_changes(other).replayed
    assert store.get_run("r1").tags == {"a": "3"}


def test_a_claimed_batch_of_a_missing_run_is_refused_by_name(store: SqlTrackingStore) -> None:
    batch = WriteBatch(tags=[TagChange("ghost", {"a": "1"})], claim=("ghost", "b1"))
    with pytest.raises(NotFoundError) as raised:
        store.write_changes(batch)
    assert raised.value.fields["run_id"] == "ghost"


def test_metric_points_of_a_stored_run_are_stored_once_per_batch_id(
    store: SqlTrackingStore, make_run: MakeRun
) -> None:
    make_run("r1")
    batch = WriteBatch(metrics={"r1": [_write("loss", 1.0, 2.0)]}, batch_ids={"r1": "m1"})
    assert store.write_changes(batch).repeated == set()
    again = WriteBatch(metrics={"r1": [_write("loss", 1.0, 2.0)]}, batch_ids={"r1": "m1"})
    assert store.write_changes(again).repeated == {"r1"}
    (info,) = store.get_metric_infos("r1")
    assert info.count == 2
    missing = WriteBatch(metrics={"ghost": [_write("loss", 1.0)]}, batch_ids={"ghost": "m1"})
    with pytest.raises(NotFoundError):
        store.write_changes(missing)


def test_a_postgresql_connection_that_died_while_idle_is_replaced(postgres_database: str) -> None:
    store = SqlTrackingStore(services.fresh_schema(postgres_database))
    try:
        store.create_experiment("e")
        time.sleep(PING_AFTER_IDLE_SECONDS + 0.2)
        name = postgres_database.rsplit("/", 1)[1].split("?")[0]
        admin = postgres_database.replace("+psycopg", "")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        assert [e.name for e in store.list_experiments()] == ["e"]
    finally:
        store.close()
