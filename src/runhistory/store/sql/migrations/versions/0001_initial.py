"""The initial schema.

Revision ID: 0001
Revises:
Create Date: 2024-06-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ACTIVE = sa.text("archived_time IS NULL")
# Must match schema.value_prefix (literal constants, so SQLite can use the index).
_VALUE_PREFIX = "substr(value, 1, 200)"


def _run_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["run_id"], ["runs.id"])


def _model_key() -> list[sa.Column[object]]:
    return [
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
    ]


def _model_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["name", "version"], ["models.name", "models.version"])


def upgrade() -> None:
    _create_experiments()
    _create_runs()
    _create_metrics()
    _create_files_and_secrets()
    _create_models()


def _create_experiments() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_time", sa.Double, nullable=False),
        sa.Column("archived_time", sa.Double, nullable=True),
        sa.Column("last_activity_time", sa.Double, nullable=True),
        sa.Column("next_run_number", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index(
        "ux_experiments_active_name",
        "experiments",
        ["name"],
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )
    op.create_index("ix_experiments_name", "experiments", ["name"])
    op.create_table(
        "experiment_tags",
        sa.Column("experiment_id", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=True),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiments.id"]),
    )


def _create_runs() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("experiment_id", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_time", sa.Double, nullable=False),
        sa.Column("parent_run_id", sa.String(255), nullable=True),
        sa.Column("root_run_id", sa.String(255), nullable=True),
        sa.Column("display_name", sa.Text, nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("run_type", sa.String(255), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("submitted_by", sa.String(255), nullable=True),
        sa.Column("start_time", sa.Double, nullable=True),
        sa.Column("end_time", sa.Double, nullable=True),
        sa.Column("heartbeat_time", sa.Double, nullable=True),
        sa.Column("snapshot_id", sa.String(255), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("run_definition", sa.Text, nullable=True),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiments.id"]),
        sa.ForeignKeyConstraint(["parent_run_id"], ["runs.id"]),
    )
    op.create_index("ux_runs_experiment_number", "runs", ["experiment_id", "number"], unique=True)
    op.create_index(
        "ix_runs_experiment_created", "runs", ["experiment_id", "created_time", "number"]
    )
    op.create_index("ix_runs_created", "runs", ["created_time", "number"])
    op.create_index("ix_runs_parent", "runs", ["parent_run_id"])
    op.create_index("ix_runs_root", "runs", ["root_run_id"])
    for table, nullable in (("run_tags", True), ("run_properties", False)):
        op.create_table(
            table,
            sa.Column("run_id", sa.String(255), primary_key=True),
            sa.Column("key", sa.String(255), primary_key=True),
            sa.Column("value", sa.Text, nullable=nullable),
            _run_fk(),
        )
        op.create_index(f"ix_{table}_key_value", table, [sa.column("key"), sa.text(_VALUE_PREFIX)])


def _create_metrics() -> None:
    op.create_table(
        "metrics",
        sa.Column("id", _AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("has_step", sa.Boolean, nullable=True),
        sa.Column("last_step", sa.BigInteger, nullable=True),
        sa.Column("last_vtype", sa.SmallInteger, nullable=True),
        sa.Column("last_value", sa.Double, nullable=True),
        sa.Column("last_text", sa.Text, nullable=True),
        sa.Column("updated_time", sa.Double, nullable=True),
        _run_fk(),
    )
    op.create_index("ux_metrics_run_name", "metrics", ["run_id", "name"], unique=True)
    op.create_table(
        "metric_chunks",
        sa.Column("metric_id", sa.BigInteger, primary_key=True),
        sa.Column("first_seq", sa.BigInteger, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("x_min", sa.BigInteger, nullable=False),
        sa.Column("x_max", sa.BigInteger, nullable=False),
        sa.Column("value_min", sa.Double, nullable=True),
        sa.Column("value_max", sa.Double, nullable=True),
        sa.Column("x_at_min", sa.BigInteger, nullable=True),
        sa.Column("x_at_max", sa.BigInteger, nullable=True),
        sa.Column("time_min", sa.Double, nullable=False),
        sa.Column("time_max", sa.Double, nullable=False),
        sa.Column("steps", sa.LargeBinary, nullable=True),
        sa.Column("vals", sa.LargeBinary, nullable=False),
        sa.Column("times", sa.LargeBinary, nullable=False),
        sa.Column("vtypes", sa.LargeBinary, nullable=True),
        sa.Column("texts", sa.Text, nullable=True),
        sa.ForeignKeyConstraint(["metric_id"], ["metrics.id"]),
    )
    op.create_index(
        "ix_metric_chunks_summary", "metric_chunks",
        ["metric_id", "first_seq", "count", "value_min", "value_max", "x_at_min", "x_at_max",
         "x_min", "x_max"],
    )  # fmt: skip
    op.create_table(
        "metric_batches",
        sa.Column("run_id", sa.String(255), primary_key=True),
        sa.Column("batch_id", sa.String(255), primary_key=True),
        sa.Column("created_time", sa.Double, nullable=False),
        _run_fk(),
    )


def _create_files_and_secrets() -> None:
    op.create_table(
        "files",
        sa.Column("run_id", sa.String(255), primary_key=True),
        sa.Column("name", sa.String(1024), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_time", sa.Double, nullable=False),
        _run_fk(),
    )
    op.create_table(
        "secrets",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("updated_time", sa.Double, nullable=False),
    )


def _create_models() -> None:
    op.create_table(
        "models",
        *_model_key(),
        sa.Column("created_time", sa.Double, nullable=False),
        sa.Column("run_id", sa.String(255), nullable=True),
        sa.Column("experiment_name", sa.String(255), nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("framework", sa.String(255), nullable=True),
        sa.Column("framework_version", sa.String(255), nullable=True),
    )
    op.create_index("ix_models_run", "models", ["run_id"])
    op.create_table(
        "model_tags",
        *_model_key(),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=True),
        _model_fk(),
    )
    op.create_table(
        "model_properties",
        *_model_key(),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        _model_fk(),
    )
    op.create_table(
        "model_files",
        *_model_key(),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        _model_fk(),
    )


def downgrade() -> None:
    for table in (
        "secrets", "model_files", "model_properties", "model_tags", "models", "files",
        "metric_batches", "metric_chunks", "metrics", "run_properties", "run_tags", "runs",
        "experiment_tags", "experiments",
    ):  # fmt: skip
        op.drop_table(table)
