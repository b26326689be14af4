"""Opening a SQL store: automatic migration, re-opening, newer schemas, concurrent first open."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

import runhistory.store.sql as sql_package
from runhistory.errors import SchemaVersionError, StorageError
from runhistory.store.sql import SqlTrackingStore, open_store
from runhistory.store.sql.engine import create_store_engine, run_transaction
from runhistory.store.sql.migrate import (
    HEAD_REVISION,
    KNOWN_REVISIONS,
    MIGRATIONS_DIR,
    current_revision,
    upgrade_schema,
    upgrade_with_alembic,
)
from runhistory.store.sql.schema import metadata
from support.services import fresh_schema

SRC_DIR = Path(sql_package.__file__).resolve().parents[3]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC_DIR)}


def _python(code: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", code]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=_env())


def test_head_revision_constant_matches_the_scripts() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    assert scripts.get_heads() == [HEAD_REVISION]
    assert {script.revision for script in scripts.walk_revisions()} == KNOWN_REVISIONS


def test_migrations_create_the_declared_schema(store_uri: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    open_store(store_uri).close()
    engine = create_store_engine(store_uri)
    try:
        with engine.connect() as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLite cannot reflect expression indexes
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_open_twice_is_fine_and_keeps_data(store_uri: str) -> None:
    first = open_store(store_uri)
    first.create_experiment("kept")
    first.close()
    second = open_store(store_uri)
    assert [e.name for e in second.list_experiments()] == ["kept"]
    second.close()


def test_reopening_an_up_to_date_store_does_not_import_alembic(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    open_store(uri).close()
    result = _python(
        "import sys\n"
        "from runhistory.store.sql import open_store\n"
        f"open_store({uri!r}).close()\n"
        "print('alembic' in sys.modules)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_newer_schema_is_refused(store_uri: str) -> None:
    open_store(store_uri).close()
    engine = create_store_engine(store_uri)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    finally:
        engine.dispose()
    with pytest.raises(SchemaVersionError, match="upgrade runhistory"):
        open_store(store_uri)


def test_unsupported_uri_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="mysql"):
        SqlTrackingStore("mysql://localhost/db")


@pytest.mark.slow
def test_concurrent_first_open(store_uri: str) -> None:
    code = (
        "from runhistory.store.sql import open_store\n"
        f"store = open_store({store_uri!r})\n"
        "store.list_experiments()\n"
        "store.close()\n"
    )
    command = [sys.executable, "-c", code]
    processes = [
        subprocess.Popen(command, env=_env(), stderr=subprocess.PIPE, text=True) for _ in range(6)
    ]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * 6, errors
    store = open_store(store_uri)
    assert store.list_experiments() == []
    store.close()


def test_alembic_migrations_build_the_declared_schema(store_uri: str) -> None:
    """A new database is created from schema.py; the migrations must build the same one."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_store_engine(store_uri)
    try:
        run_transaction(engine, upgrade_with_alembic)
        with engine.connect() as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    assert diff == []
    assert revision == HEAD_REVISION


LEGACY_RUN = (
    "INSERT INTO runs (id, experiment_id, number, status, created_time, run_type, target, "
    "run_definition) VALUES (:id, 'e1', :number, 'Completed', 1.0, 'experimentrun', 'local', "
    ":definition)"
)


def test_upgrade_from_0002_keeps_every_run_detail(store_uri: str) -> None:
    """Tags, properties and environments move into the new columns; long metrics get blocks."""
    import orjson

    from runhistory.store.sql._chunks import encode_chunks
    from runhistory.store.sql._summaries import SUMMARY_BLOCK_POINTS

    environment = {"python": {"version": "3.11", "packages": {"numpy": "2.0"}}}
    definitions = [{"environment": environment, "script": "a.py"}, {"environment": environment}]
    points = SUMMARY_BLOCK_POINTS * 2 + 500
    steps = list(range(points))
    values = [float(i % 977) for i in range(points)]
    columns = (steps, [0] * points, values, [None] * points, [1.0] * points)
    engine = create_store_engine(store_uri)
    try:
        run_transaction(engine, lambda conn: upgrade_with_alembic(conn, "0002"))
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO experiments (id, name, created_time) VALUES ('e1', 'old', 1.0)")
            )
            for number, definition in enumerate(definitions, 1):
                params = {"id": f"r{number}", "number": number,
                          "definition": orjson.dumps(definition).decode()}  # fmt: skip
                conn.execute(text(LEGACY_RUN), params)
            conn.execute(
                text("INSERT INTO run_tags VALUES ('r1', 'team', 'vision'), ('r1', 'flag', NULL)")
            )
            conn.execute(text("INSERT INTO run_properties VALUES ('r2', 'seed', '7')"))
            conn.execute(
                text("INSERT INTO metrics (id, run_id, name, kind, count, has_step) "
                     "VALUES (1, 'r1', 'loss', 'scalar', :count, :yes)"),
                {"count": points, "yes": True},
            )  # fmt: skip
            conn.execute(
                text("INSERT INTO metrics (id, run_id, name, kind, count, has_step, last_vtype, "
                     "last_value) VALUES (2, 'r2', 'acc', 'scalar', 1, :no, 0, 3.5)"),
                {"no": False},
            )  # fmt: skip
            for row in encode_chunks(1, 0, columns):  # type: ignore[arg-type]
                names, marks = ", ".join(row), ", ".join(f":{k}" for k in row)
                conn.execute(text(f"INSERT INTO metric_chunks ({names}) VALUES ({marks})"), row)
        if store_uri.startswith("postgresql"):  # a shared database is upgraded on purpose
            upgrade_schema(engine)
    finally:
        engine.dispose()
    store = open_store(store_uri)
    try:
        first, second = store.get_run("r1"), store.get_run("r2")
        assert first.tags == {"team": "vision", "flag": None} and first.properties == {}
        assert second.properties == {"seed": "7"} and second.tags == {}
        assert first.run_definition == definitions[0]
        assert second.run_definition == definitions[1]
        assert store.get_metric_columns("r1", "loss").values == values
        [series] = store.get_metric_series(["r1"], ["loss"], max_points=200)
        assert series.downsampled and max(series.y) == 976.0 and min(series.y) == 0.0
        with store._engine.connect() as conn:
            blocks = conn.execute(text("SELECT first_seq FROM metric_summaries")).scalars().all()
        assert sorted(blocks) == [0, SUMMARY_BLOCK_POINTS]
        # 0008: the extremes of the metrics already stored (chunks, or the row's one point)
        assert store.get_last_metric_values(["r1", "r2"], value="min") == {
            "r1": {"loss": 0.0}, "r2": {"acc": 3.5},
        }  # fmt: skip
        assert store.get_last_metric_values(["r1"], value="max") == {"r1": {"loss": 976.0}}
    finally:
        store.close()


def _table_shape(found: Any, table: str) -> dict[str, Any]:
    def text_of(options: dict[str, Any]) -> str:
        return str(sorted((key, str(value)) for key, value in options.items()))

    columns = [
        (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
        for c in found.get_columns(table)
    ]
    foreign_keys = [
        (fk["name"] or "", fk["constrained_columns"], fk["referred_table"],
         fk["referred_columns"], text_of(fk["options"]))
        for fk in found.get_foreign_keys(table)
    ]  # fmt: skip
    indexes = [
        (ix["name"] or "", [str(c) for c in ix["column_names"]], ix["unique"],
         ix.get("expressions") or [], text_of(ix.get("dialect_options", {})))
        for ix in found.get_indexes(table)
    ]  # fmt: skip
    uniques = [(u["name"] or "", u["column_names"]) for u in found.get_unique_constraints(table)]
    checks = [(c["name"] or "", c["sqltext"]) for c in found.get_check_constraints(table)]
    return {
        "columns": sorted(columns),
        "primary key": found.get_pk_constraint(table)["constrained_columns"],
        "foreign keys": sorted(map(str, foreign_keys)),
        "indexes": sorted(map(str, indexes)),
        "unique": sorted(map(str, uniques)),
        "checks": sorted(checks),
    }


def _shape(uri: str) -> dict[str, Any]:
    """Every table of the database at ``uri`` as reflected: columns (name, type, nullability,
    default), primary key, foreign keys, indexes, unique and check constraints."""
    engine = create_store_engine(uri)
    try:
        with engine.connect() as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLite cannot reflect expression indexes
            found = inspect(conn)
            return {table: _table_shape(found, table) for table in found.get_table_names()}
    finally:
        engine.dispose()


def _alembic(uri: str, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    def run(conn: Any) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = conn
        getattr(command, action)(config, revision)

    engine = create_store_engine(uri)
    try:
        run_transaction(engine, run)
    finally:
        engine.dispose()


def test_the_schema_created_at_head_is_the_migrated_one_and_migrates_on(
    store_uri: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """An empty database gets schema.py's tables stamped at the head revision; the migrations
    from nothing must build the same tables, columns, types, indexes and constraints, and
    Alembic must take the created database from there (down a revision and up again)."""
    if store_uri.startswith("sqlite"):
        migrated = f"sqlite:///{tmp_path / 'migrated.db'}"
    else:
        migrated = fresh_schema(request.getfixturevalue("postgres_database"))
    open_store(store_uri).close()  # created from schema.py, stamped
    _alembic(migrated, "upgrade", "head")  # every migration from an empty database
    created_shape = _shape(store_uri)
    assert created_shape == _shape(migrated)
    assert "runs" in created_shape and "alembic_version" in created_shape

    engine = create_store_engine(store_uri)
    try:
        assert run_transaction(engine, current_revision, read_only=True) == HEAD_REVISION
    finally:
        engine.dispose()
    _alembic(store_uri, "downgrade", "-1")
    _alembic(store_uri, "upgrade", "head")
    assert _shape(store_uri) == created_shape
    open_store(store_uri).close()  # at head again: opens as it is
