"""Bearer tokens of the tracking server.

Revision ID: 0002
Revises: 0001
Create Date: 2024-07-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("created_time", sa.Double, nullable=False),
        sa.Column("revoked_time", sa.Double, nullable=True),
        sa.Column("last_used_time", sa.Double, nullable=True),
    )
    op.create_index("ux_api_tokens_sha256", "api_tokens", ["token_sha256"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_api_tokens_sha256", table_name="api_tokens")
    op.drop_table("api_tokens")
