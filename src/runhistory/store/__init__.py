"""Persistence of everything but file contents: the :class:`TrackingStore` interface.

The SQL implementation lives in :mod:`runhistory.store.sql`. Names are imported on first use,
so that the lean read-only reader of that package is imported without the interface.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runhistory.lazy import lazy_getattr

if TYPE_CHECKING:
    from runhistory.store.base import UNCHANGED, TrackingStore

__all__ = ["UNCHANGED", "TrackingStore"]

__getattr__ = lazy_getattr(
    __name__,
    {"UNCHANGED": "runhistory.store.base", "TrackingStore": "runhistory.store.base"},
    globals(),
)
