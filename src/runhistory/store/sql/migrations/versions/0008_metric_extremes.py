"""The smallest and largest value of each metric, kept in its row (the runs table's min/max
columns), filled in for the metrics already stored; saved views of experiments' runs tables.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Numeric value types (float, int, bool); NaN has its own type and a NULL value.
_NUMERIC = "(0, 1, 2)"


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column(
            "experiment_id", sa.String(32), sa.ForeignKey("experiments.id"), primary_key=True
        ),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("created_time", sa.Double, nullable=False),
        sa.Column("updated_time", sa.Double, nullable=False),
    )
    with op.batch_alter_table("metrics") as batch:
        batch.add_column(sa.Column("min_value", sa.Double, nullable=True))
        batch.add_column(sa.Column("max_value", sa.Double, nullable=True))
    # A metric with chunks: the extremes of its chunk summaries (the covering index); a metric
    # with one point keeps it in its row.
    of_metric = "FROM metric_chunks c WHERE c.metric_id = metrics.id"
    op.execute(
        f"UPDATE metrics SET min_value = (SELECT MIN(c.value_min) {of_metric}),"
        f" max_value = (SELECT MAX(c.value_max) {of_metric}) WHERE count > 1"
    )
    op.execute(
        "UPDATE metrics SET min_value = last_value, max_value = last_value"
        f" WHERE count = 1 AND last_vtype IN {_NUMERIC} AND last_value IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("saved_views")
    with op.batch_alter_table("metrics") as batch:
        batch.drop_column("max_value")
        batch.drop_column("min_value")
