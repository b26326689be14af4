"""The model registry as a whole: registered models (description, tags, aliases) and the
registry fields of a version (stage, source, update time), as MLflow's registry uses them.

Every model name already registered gets its registered-model row.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VERSION_COLUMNS = (
    ("updated_time", sa.Double),
    ("stage", lambda: sa.String(32)),
    ("source", sa.Text),
)


def upgrade() -> None:
    for name, kind in _VERSION_COLUMNS:
        op.add_column("models", sa.Column(name, kind(), nullable=True))
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("created_time", sa.Double, nullable=False),
        sa.Column("updated_time", sa.Double, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
    )
    op.create_table(
        "registered_model_tags",
        sa.Column(
            "name", sa.String(255), sa.ForeignKey("registered_models.name"), primary_key=True
        ),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=True),
    )
    op.create_table(
        "model_aliases",
        sa.Column(
            "name", sa.String(255), sa.ForeignKey("registered_models.name"), primary_key=True
        ),
        sa.Column("alias", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.execute(
        "INSERT INTO registered_models (name, created_time, updated_time) "
        "SELECT name, MIN(created_time), MAX(created_time) FROM models GROUP BY name"
    )


def downgrade() -> None:
    op.drop_table("model_aliases")
    op.drop_table("registered_model_tags")
    op.drop_table("registered_models")
    with op.batch_alter_table("models") as batch:
        for name, _ in reversed(_VERSION_COLUMNS):
            batch.drop_column(name)
