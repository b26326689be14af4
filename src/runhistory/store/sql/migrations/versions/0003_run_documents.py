"""Run tags and properties as JSON columns, shared environments, metric block summaries.

- ``runs.tags`` and ``runs.properties`` (JSON, JSONB on PostgreSQL) replace the ``run_tags``
  and ``run_properties`` tables, whose contents move over.
- ``environments`` holds each distinct ``run_definition["environment"]`` once; runs point to
  it with ``environment_id``.
- ``metric_summaries`` packs the chunk summaries of every complete block of a metric; blocks
  of metrics already stored are built here.
- A metric with a single point keeps it in its row only: such chunks are removed.
- The indexes of runs by parent and by root run leave top-level runs out (partial indexes).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY_VALUES = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_BATCH = 500


def upgrade() -> None:
    op.create_table(
        "environments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_time", sa.Double, nullable=False),
    )
    for column in ("tags", "properties"):
        op.add_column(
            "runs",
            sa.Column(column, _KEY_VALUES, nullable=False, server_default=sa.text("'{}'")),
        )
    op.add_column("runs", sa.Column("environment_id", sa.String(64), nullable=True))
    for index, column in (("ix_runs_parent", "parent_run_id"), ("ix_runs_root", "root_run_id")):
        op.drop_index(index, table_name="runs")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(index, "runs", [column], sqlite_where=where, postgresql_where=where)
    conn = op.get_bind()
    _move_key_values(conn, "run_tags", "tags")
    _move_key_values(conn, "run_properties", "properties")
    for table in ("run_tags", "run_properties"):
        op.drop_index(f"ix_{table}_key_value", table_name=table)
        op.drop_table(table)
    _move_environments(conn)
    op.create_table(
        "metric_summaries",
        sa.Column("metric_id", sa.BigInteger, primary_key=True),
        sa.Column("first_seq", sa.BigInteger, primary_key=True),
        sa.Column("chunk_count", sa.Integer, nullable=False),
        sa.Column("summary", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(["metric_id"], ["metrics.id"]),
    )
    _build_summaries(conn)
    conn.exec_driver_sql(
        "DELETE FROM metric_chunks WHERE metric_id IN (SELECT id FROM metrics WHERE count = 1)"
    )


def _move_key_values(conn: sa.Connection, table: str, column: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"UPDATE runs SET {column} = s.doc FROM (SELECT run_id, jsonb_object_agg(key, value) "
            f"AS doc FROM {table} GROUP BY run_id) AS s WHERE runs.id = s.run_id"
        )
    else:
        conn.exec_driver_sql(
            f"UPDATE runs SET {column} = (SELECT json_group_object(key, value) FROM {table} AS t "
            f"WHERE t.run_id = runs.id) WHERE id IN (SELECT run_id FROM {table})"
        )


def _move_environments(conn: sa.Connection) -> None:
    rows = conn.exec_driver_sql(
        "SELECT id, run_definition FROM runs WHERE run_definition IS NOT NULL"
    ).all()
    known: set[str] = set()
    updates: list[dict[str, Any]] = []
    for run_id, text in rows:
        definition = orjson.loads(text)
        if not isinstance(definition, dict) or "environment" not in definition:
            continue
        document = orjson.dumps(definition.pop("environment"), option=orjson.OPT_SORT_KEYS)
        digest = hashlib.sha256(document).hexdigest()
        if digest not in known:
            conn.execute(
                sa.text(
                    "INSERT INTO environments (id, document, created_time) "
                    "VALUES (:id, :document, :created) ON CONFLICT DO NOTHING"
                ),
                {"id": digest, "document": document.decode(), "created": time.time()},
            )
            known.add(digest)
        rest = orjson.dumps(definition).decode() if definition else None
        updates.append({"id": run_id, "definition": rest, "environment": digest})
    statement = sa.text(
        "UPDATE runs SET run_definition = :definition, environment_id = :environment WHERE id = :id"
    )
    for start in range(0, len(updates), _BATCH):
        conn.execute(statement, updates[start : start + _BATCH])


def _build_summaries(conn: sa.Connection) -> None:
    from runhistory.store.sql._summaries import SUMMARY_BLOCK_POINTS, pack

    long_metrics = conn.exec_driver_sql(
        f"SELECT id, count FROM metrics WHERE count >= {SUMMARY_BLOCK_POINTS}"
    ).all()
    chunks = sa.text(
        "SELECT first_seq, count, value_min, value_max, x_at_min, x_at_max, x_min, x_max "
        "FROM metric_chunks WHERE metric_id = :metric AND first_seq < :end ORDER BY first_seq"
    )
    insert = sa.text(
        "INSERT INTO metric_summaries (metric_id, first_seq, chunk_count, summary) "
        "VALUES (:metric, :first, :chunks, :summary)"
    )
    for metric_id, count in long_metrics:
        blocks = int(count) // SUMMARY_BLOCK_POINTS
        end = blocks * SUMMARY_BLOCK_POINTS
        grouped: dict[int, list[Any]] = {}
        for row in conn.execute(chunks, {"metric": metric_id, "end": end}):
            grouped.setdefault(int(row[0]) // SUMMARY_BLOCK_POINTS, []).append(tuple(row))
        for block, summaries in sorted(grouped.items()):
            conn.execute(
                insert,
                {
                    "metric": metric_id,
                    "first": block * SUMMARY_BLOCK_POINTS,
                    "chunks": len(summaries),
                    "summary": pack(summaries),
                },
            )


def downgrade() -> None:
    raise NotImplementedError("runhistory schemas are upgraded only")
