"""The schema revisions this runhistory knows (no SQLAlchemy here: the lean reader checks a
database's revision against :data:`HEAD_REVISION` without importing it)."""

from __future__ import annotations

# Keep in step with migrations/versions: the newest revision id, and every id ever released.
HEAD_REVISION = "0010"
KNOWN_REVISIONS = frozenset(
    {"0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010"}
)
