"""Indexes for run listings: filters by status and by a tag or property value.

- ``run_keys`` holds one row per tag and per property of every run, keyed by the filter and
  the listing order (experiment, tag or property, key, value, created time, number, run id):
  a listing filtered on ``key == value`` reads its first page from this key alone, newest
  first, however many runs the experiment has. It is written by the store's one write path
  with the runs' documents (which remain the truth; values longer than 200 characters are
  indexed by their first 200). On SQLite the table is its own index (``WITHOUT ROWID``).
- ``ix_runs_experiment_status`` serves listings filtered by status, newest first.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VALUE_CHARS = 200


def upgrade() -> None:
    op.create_table(
        "run_keys",
        sa.Column("experiment_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.SmallInteger, primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.String(_VALUE_CHARS), primary_key=True),
        sa.Column("created_time", sa.Double, primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.String(255), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_runs_experiment_status", "runs", ["experiment_id", "status", "created_time", "number"]
    )
    conn = op.get_bind()
    for kind, column in ((0, "tags"), (1, "properties")):
        if conn.dialect.name == "postgresql":
            each = f"jsonb_each_text(r.{column})"
        else:
            each = f"json_each(r.{column})"
        conn.exec_driver_sql(
            "INSERT INTO run_keys (experiment_id, kind, key, value, created_time, number, run_id) "
            f"SELECT r.experiment_id, {kind}, j.key, "
            f"substr(coalesce(j.value, ''), 1, {_VALUE_CHARS}), r.created_time, r.number, r.id "
            f"FROM runs r, {each} j"
        )


def downgrade() -> None:
    op.drop_index("ix_runs_experiment_status", table_name="runs")
    op.drop_table("run_keys")
