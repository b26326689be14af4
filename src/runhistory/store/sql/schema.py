"""The tables of the SQL store, as SQLAlchemy Core metadata.

This module describes the schema at the newest migration; the migrations in
``migrations/versions`` create it. Keep the two in step (a test compares them).
Times are seconds since the epoch as doubles. JSON documents are orjson text in ``Text``, but
for run tags and properties, which are JSON columns (JSONB on PostgreSQL) so that listings can
filter on them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias).
AutoId = BigInteger().with_variant(Integer(), "sqlite")

experiments = Table(
    "experiments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("created_time", Double, nullable=False),
    Column("archived_time", Double, nullable=True),
    Column("last_activity_time", Double, nullable=True),
    Column("next_run_number", Integer, nullable=False, server_default="0"),
    # One active experiment per name; archived ones may share it.
    Index(
        "ux_experiments_active_name",
        "name",
        unique=True,
        sqlite_where=text("archived_time IS NULL"),
        postgresql_where=text("archived_time IS NULL"),
    ),
    Index("ix_experiments_name", "name"),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column("experiment_id", String(32), ForeignKey("experiments.id"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=True),
)

# Tags and properties are JSON documents on the run row (``{key: value}``): creating a run
# writes one row instead of one per key in tables whose (key, value) index scatters every run
# over many pages (measured: half the cost of creating a run). JSONB on PostgreSQL.
KeyValues = JSON().with_variant(JSONB(), "postgresql")

runs = Table(
    "runs",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("experiment_id", String(32), ForeignKey("experiments.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_time", Double, nullable=False),
    Column("parent_run_id", String(255), ForeignKey("runs.id"), nullable=True),
    Column("root_run_id", String(255), nullable=True),
    Column("display_name", Text, nullable=True),
    Column("description", Text, nullable=True),
    Column("run_type", String(255), nullable=False),
    Column("target", String(255), nullable=False),
    Column("submitted_by", String(255), nullable=True),
    Column("start_time", Double, nullable=True),
    Column("end_time", Double, nullable=True),
    Column("heartbeat_time", Double, nullable=True),
    Column("snapshot_id", String(255), nullable=True),
    Column("error", Text, nullable=True),
    # The run definition without its "environment", which lives in ``environments``.
    Column("run_definition", Text, nullable=True),
    Column("tags", KeyValues, nullable=False, server_default=text("'{}'")),
    Column("properties", KeyValues, nullable=False, server_default=text("'{}'")),
    # Not a foreign key: environments are shared and never deleted.
    Column("environment_id", String(64), nullable=True),
    Index("ux_runs_experiment_number", "experiment_id", "number", unique=True),
    Index("ix_runs_experiment_created", "experiment_id", "created_time", "number"),
    Index("ix_runs_created", "created_time", "number"),
    Index("ix_runs_experiment_status", "experiment_id", "status", "created_time", "number"),
    # Partial: top-level runs (most runs) write no entry (measured ~10% of creating a run).
    Index(
        "ix_runs_parent",
        "parent_run_id",
        sqlite_where=text("parent_run_id IS NOT NULL"),
        postgresql_where=text("parent_run_id IS NOT NULL"),
    ),
    Index(
        "ix_runs_root",
        "root_run_id",
        sqlite_where=text("root_run_id IS NOT NULL"),
        postgresql_where=text("root_run_id IS NOT NULL"),
    ),
)

# Named views of an experiment's runs table (the studio's URL state: filter, sort, columns),
# shared by everyone who opens the experiment (migration 0008).
saved_views = Table(
    "saved_views",
    metadata,
    Column("experiment_id", String(32), ForeignKey("experiments.id"), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("state", Text, nullable=False),
    Column("created_time", Double, nullable=False),
    Column("updated_time", Double, nullable=False),
)

# Every tag (kind 0) and property (kind 1) of every run, keyed in listing order for filters
# on a value (see migration 0006); the runs' documents remain the truth. No foreign key: rows
# are written and deleted with their runs by the store's one write path.
RUN_KEY_VALUE_CHARS = 200
run_keys = Table(
    "run_keys",
    metadata,
    Column("experiment_id", String(32), primary_key=True),
    Column("kind", SmallInteger, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", String(RUN_KEY_VALUE_CHARS), primary_key=True),
    Column("created_time", Double, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("run_id", String(255), primary_key=True),
    sqlite_with_rowid=False,
)

# On SQLite, the keys of new runs waiting to be moved into ``run_keys`` (migration 0010): one
# row per run, its tags and properties as JSON objects of their keyed values (text, as
# ``run_keys.value`` holds them). A run's creation writes this one row instead of one
# ``run_keys`` row per key; the write path moves the waiting rows in bulk (see _run_keys.py)
# and listings read both. Unused on PostgreSQL.
run_keys_pending = Table(
    "run_keys_pending",
    metadata,
    Column("run_id", String(255), primary_key=True),
    Column("experiment_id", String(32), nullable=False),
    Column("created_time", Double, nullable=False),
    Column("number", Integer, nullable=False),
    Column("tags", Text, nullable=False),
    Column("properties", Text, nullable=False),
)

# What runs ran in (``run_definition["environment"]``: Python, packages …), stored once per
# distinct content: every run of a process shares one row, keyed by the SHA-256 of its JSON.
environments = Table(
    "environments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("created_time", Double, nullable=False),
)

metrics = Table(
    "metrics",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("run_id", String(255), ForeignKey("runs.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("count", BigInteger, nullable=False, server_default="0"),
    Column("has_step", Boolean, nullable=True),
    Column("last_step", BigInteger, nullable=True),
    Column("last_vtype", SmallInteger, nullable=True),
    Column("last_value", Double, nullable=True),
    Column("last_text", Text, nullable=True),
    Column("updated_time", Double, nullable=True),
    # The smallest and largest numeric value logged (NULL: none yet), kept by the write path
    # for the runs table's min/max columns (migration 0008).
    Column("min_value", Double, nullable=True),
    Column("max_value", Double, nullable=True),
    Index("ux_metrics_run_name", "run_id", "name", unique=True),
)

# The hot table: points in chunks of packed arrays with a summary each (see _chunks.py;
# measured ~10x faster to append and ~20x faster to read than one row per point).
metric_chunks = Table(
    "metric_chunks",
    metadata,
    Column("metric_id", BigInteger, ForeignKey("metrics.id"), primary_key=True),
    Column("first_seq", BigInteger, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("x_min", BigInteger, nullable=False),
    Column("x_max", BigInteger, nullable=False),
    Column("value_min", Double, nullable=True),
    Column("value_max", Double, nullable=True),
    Column("x_at_min", BigInteger, nullable=True),
    Column("x_at_max", BigInteger, nullable=True),
    Column("time_min", Double, nullable=False),
    Column("time_max", Double, nullable=False),
    Column("steps", LargeBinary, nullable=True),
    Column("vals", LargeBinary, nullable=False),
    Column("times", LargeBinary, nullable=False),
    Column("vtypes", LargeBinary, nullable=True),
    Column("texts", Text, nullable=True),
    # Covers chart reads: summaries come from the index alone, never from the blob rows.
    Index(
        "ix_metric_chunks_summary",
        "metric_id",
        "first_seq",
        "count",
        "value_min",
        "value_max",
        "x_at_min",
        "x_at_max",
        "x_min",
        "x_max",
    ),
)

# Chart reads of long metrics: the summaries of every chunk whose first point falls in one
# block of SUMMARY_BLOCK_POINTS points, packed in one row once the block is complete (see
# _summaries.py). A chart of 100 runs x 100,000 points reads 300 of these instead of 78,000
# chunk summaries; the incomplete last block is read from the chunks' covering index.
metric_summaries = Table(
    "metric_summaries",
    metadata,
    Column("metric_id", BigInteger, ForeignKey("metrics.id"), primary_key=True),
    Column("first_seq", BigInteger, primary_key=True),
    Column("chunk_count", Integer, nullable=False),
    Column("summary", LargeBinary, nullable=False),
)

metric_batches = Table(
    "metric_batches",
    metadata,
    Column("run_id", String(255), ForeignKey("runs.id"), primary_key=True),
    Column("batch_id", String(255), primary_key=True),
    Column("created_time", Double, nullable=False),
)

files = Table(
    "files",
    metadata,
    Column("run_id", String(255), ForeignKey("runs.id"), primary_key=True),
    Column("name", String(1024), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_time", Double, nullable=False),
)

models = Table(
    "models",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("created_time", Double, nullable=False),
    # Not a foreign key: a registered model outlives the run that produced it.
    Column("run_id", String(255), nullable=True),
    Column("experiment_name", String(255), nullable=True),
    Column("description", Text, nullable=True),
    Column("framework", String(255), nullable=True),
    Column("framework_version", String(255), nullable=True),
    # What MLflow's registry keeps of a version (NULL for versions registered otherwise).
    Column("updated_time", Double, nullable=True),
    Column("stage", String(32), nullable=True),
    Column("source", Text, nullable=True),
    Index("ix_models_run", "run_id"),
)

# A registered model as a whole: one row per model name, made when its first version is
# registered (or by MLflow's ``create_registered_model``, before any version). It holds the
# model's own description and tags, and its aliases (``@champion`` -> a version).
registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("created_time", Double, nullable=False),
    Column("updated_time", Double, nullable=False),
    Column("description", Text, nullable=True),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column("name", String(255), ForeignKey("registered_models.name"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=True),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("name", String(255), ForeignKey("registered_models.name"), primary_key=True),
    Column("alias", String(255), primary_key=True),
    Column("version", Integer, nullable=False),
)


def _model_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["name", "version"], ["models.name", "models.version"])


model_tags = Table(
    "model_tags",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=True),
    _model_fk(),
)

model_properties = Table(
    "model_properties",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    _model_fk(),
)

model_files = Table(
    "model_files",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("path", Text, nullable=False),
    _model_fk(),
)

# The workspace's environment registry (``Environment.register``): one row per version of a
# name, the definition as orjson text in the ``.runconfig`` layout.
registered_environments = Table(
    "registered_environments",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("created_time", Double, nullable=False),
    Column("definition", Text, nullable=False),
)

# Named compute targets (``local`` process pools, ``ray`` clusters): kind and settings as JSON.
compute_targets = Table(
    "compute_targets",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("created_time", Double, nullable=False),
    Column("config", Text, nullable=False),
)

secrets = Table(
    "secrets",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("updated_time", Double, nullable=False),
)

# Bearer tokens of the server (``runhistory token create``): only the SHA-256 of a token is kept.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("token_sha256", String(64), nullable=False),
    Column("created_time", Double, nullable=False),
    Column("revoked_time", Double, nullable=True),
    Column("last_used_time", Double, nullable=True),
    Column("scope", String(16), nullable=False, server_default="write"),
    Column("expires_time", Double, nullable=True),
    Index("ux_api_tokens_sha256", "token_sha256", unique=True),
)

# Studio sessions (cookies) and one-time sign-in codes, by SHA-256, each for one token.
auth_sessions = Table(
    "auth_sessions",
    metadata,
    Column("id_sha256", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("token_id", String(32), ForeignKey("api_tokens.id"), nullable=False),
    Column("created_time", Double, nullable=False),
    Column("expires_time", Double, nullable=False),
    Column("ended_time", Double, nullable=True),
    Index("ix_auth_sessions_token", "token_id"),
)

# Facts every server of one database agrees on (the secret key's fingerprint, ...).
server_identity = Table(
    "server_identity",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_time", Double, nullable=False),
)
