"""Fixtures for the SQL store tests: every test runs against SQLite and PostgreSQL.

PostgreSQL: the session creates its own database on the server named by
``RUNHISTORY_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``) and
drops it at the end; each test gets a fresh schema in it. An unreachable server fails the
tests instead of skipping them (see ``support.services``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import ExperimentInfo, RunInfo
from support import services, writes

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """URL of a database created for this test session (dropped at the end)."""
    with services.postgres_database("rh_store") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URI of an empty store: a SQLite file in ``tmp_path``, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return services.fresh_schema(request.getfixturevalue("postgres_database"))


@pytest.fixture
def store(store_uri: str) -> Iterator[SqlTrackingStore]:
    opened = SqlTrackingStore(store_uri)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def experiment(store: SqlTrackingStore) -> ExperimentInfo:
    return store.create_experiment("exp")


MakeRun = Callable[..., RunInfo]


@pytest.fixture
def make_run(store: SqlTrackingStore, experiment: ExperimentInfo) -> MakeRun:
    """``make_run(run_id, **fields)``: a Running run in ``experiment`` created now."""

    def make(run_id: str, **fields: Any) -> RunInfo:
        fields.setdefault("experiment_id", experiment.experiment_id)
        fields.setdefault("status", "Running")
        fields.setdefault("created_time", time.time())
        return writes.create_run(store, run_id, **fields)

    return make
