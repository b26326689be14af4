"""Keys of new runs waiting for the ``run_keys`` index (SQLite).

- ``run_keys_pending`` holds one row per new run: its listing position (experiment, created
  time, number) and its tags and properties as JSON objects of their keyed values. On SQLite a
  run's creation writes this one row instead of one ``run_keys`` row per tag and property; the
  write path moves the waiting rows into ``run_keys`` in bulk, and listings read both. Unused on
  PostgreSQL (created there too, so that both databases have one schema).

Downgrading moves the waiting keys into ``run_keys`` first.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_keys_pending",
        sa.Column("run_id", sa.String(255), primary_key=True),
        sa.Column("experiment_id", sa.String(32), nullable=False),
        sa.Column("created_time", sa.Double, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("properties", sa.Text, nullable=False),
    )


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for kind, column in ((0, "tags"), (1, "properties")):
            conn.exec_driver_sql(
                "INSERT INTO run_keys (experiment_id, kind, key, value, created_time, number, "
                f"run_id) SELECT p.experiment_id, {kind}, j.key, j.value, p.created_time, "
                f"p.number, p.run_id FROM run_keys_pending p, json_each(p.{column}) j"
            )
    op.drop_table("run_keys_pending")
