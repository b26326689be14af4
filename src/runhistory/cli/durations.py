"""Durations written as people write them: ``30d``, ``12h``, ``90m``, ``45s``, ``2w``."""

from __future__ import annotations

import re

from runhistory.errors import ValidationError

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in ``text`` (a positive number and one unit of s, m, h, d or w).

    Raises:
        ValidationError: the text is not such a duration.

    Example:
        >>> parse_duration("30d")
        2592000.0
    """
    match = _PATTERN.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ValidationError(
            f"invalid duration {text!r}: write a positive number and a unit, e.g. 30d, 12h, "
            "90m, 45s or 2w"
        )
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def parse_time(text: str, now: float) -> float:
    """Epoch seconds named by ``text``: an ISO 8601 date or time (``2026-01-31``,
    ``2026-01-31T12:00``, ``2026-01-31T12:00:00+02:00``; UTC unless an offset is given), or a
    duration before ``now`` (``2h``, ``3d``: two hours, three days ago).

    Raises:
        ValidationError: ``text`` is neither.

    Example:
        >>> parse_time("1970-01-02", now=0.0)
        86400.0
        >>> parse_time("1h", now=7200.0)
        3600.0
    """
    from datetime import datetime, timezone

    if _PATTERN.match(text):
        return now - parse_duration(text)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"invalid time {text!r}: write an ISO date or time (2026-01-31, "
            "2026-01-31T12:00, UTC unless an offset is given) or a duration before now "
            "(30m, 2h, 3d, 1w)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
