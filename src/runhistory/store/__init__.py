"""Persistence of everything but file contents: the :class:`TrackingStore` interface.

The SQL implementation lives in :mod:`runhistory.store.sql`. Names are imported on first use,
so that the lean read-only reader of that package is imported without the interface.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runhistory.store.base import UNCHANGED, TrackingStore

__all__ = ["UNCHANGED", "TrackingStore"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from runhistory.store import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
