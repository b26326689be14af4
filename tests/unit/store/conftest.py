"""Fixtures for the SQL store tests: every test runs against SQLite and PostgreSQL.

PostgreSQL: the session creates its own database (``rh_<uuid>``) on the server named by
``RUNHISTORY_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``) and
drops it at the end; each test gets a fresh schema in it. An unreachable server fails the
tests instead of skipping them.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import make_url

from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import ExperimentInfo, RunInfo

POSTGRES_URL = os.environ.get(
    "RUNHISTORY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """URL of a database created for this test session."""
    name = f"rh_{uuid.uuid4().hex}"
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        pytest.fail(f"PostgreSQL is required for the store tests ({POSTGRES_URL}): {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_schema_uri(database_url: str) -> str:
    schema = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{database_url}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=BACKENDS)
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URI of an empty store: a SQLite file in ``tmp_path``, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return _postgres_schema_uri(request.getfixturevalue("postgres_database"))


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
        return store.create_run(run_id, **fields)

    return make
