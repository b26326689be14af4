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
