"""The backend-parametrised fixture of the behaviour suite.

Every test in ``tests/contract`` receives a fresh, empty ``workspace`` for each backend:
the embedded default (SQLite + local folder) and PostgreSQL (its own schema in a database
created for this test session, files in a local folder). A backend that is unreachable
fails the suite; nothing is skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from runhistory import Experiment, Workspace

POSTGRES_URL = os.environ.get(
    "RUNHISTORY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def contract_postgres() -> Iterator[str]:
    """A PostgreSQL database created for this session, dropped at the end."""
    name = f"rh_contract_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        pytest.fail(f"PostgreSQL is required for the contract suite ({POSTGRES_URL}): {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fresh_schema(database_url: str) -> str:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{database_url}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    """The name of the backend under test."""
    return str(request.param)


@pytest.fixture
def workspace(backend_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Workspace:
    """A fresh, empty workspace on the backend under test."""
    if backend_name == "sqlite":
        return Workspace(path=tmp_path / "workspace")
    database = request.getfixturevalue("contract_postgres")
    return Workspace(
        tracking_uri=_fresh_schema(database), artifact_location=str(tmp_path / "artifacts")
    )


@pytest.fixture
def experiment(workspace: Workspace) -> Experiment:
    """An experiment in the fresh workspace."""
    return Experiment(workspace, "contract-tests")
