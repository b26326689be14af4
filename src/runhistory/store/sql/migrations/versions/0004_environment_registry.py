"""The environment registry: versions of named environments (``Environment.register``).

Revision ID: 0004
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registered_environments",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("created_time", sa.Double, nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("registered_environments")
