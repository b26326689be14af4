"""Token scopes and expiry, studio sessions and one-time sign-in codes, the server key.

- ``api_tokens.scope`` (``write`` or ``read``; existing tokens keep full access) and
  ``api_tokens.expires_time`` (null: never expires).
- ``auth_sessions`` keeps, by SHA-256, the studio's session cookies and the one-time codes of
  sign-in links, each tied to the token it was made from.
- ``server_identity`` holds facts every server of one database must agree on, such as the
  fingerprint of the key that encrypts secrets.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("scope", sa.String(16), nullable=False, server_default="write"))
        batch.add_column(sa.Column("expires_time", sa.Double, nullable=True))
    op.create_table(
        "auth_sessions",
        sa.Column("id_sha256", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("token_id", sa.String(32), sa.ForeignKey("api_tokens.id"), nullable=False),
        sa.Column("created_time", sa.Double, nullable=False),
        sa.Column("expires_time", sa.Double, nullable=False),
        sa.Column("ended_time", sa.Double, nullable=True),
    )
    op.create_index("ix_auth_sessions_token", "auth_sessions", ["token_id"])
    op.create_table(
        "server_identity",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("created_time", sa.Double, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("server_identity")
    op.drop_index("ix_auth_sessions_token", table_name="auth_sessions")
    op.drop_table("auth_sessions")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_time")
        batch.drop_column("scope")
