"""One-line notices to the user on stderr (what a compatibility shim did in their place)."""

from __future__ import annotations

import sys


def notice(message: str) -> None:
    """Print ``runhistory: <message>`` on stderr."""
    print(f"runhistory: {message}", file=sys.stderr, flush=True)
