"""Time formatting for the dictionaries the original SDK returned."""

from __future__ import annotations

from datetime import datetime, timezone


def iso_utc(seconds: float | None) -> str | None:
    """Epoch seconds as ISO 8601 in UTC (``2024-05-01T12:00:00.123456Z``), or None."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
