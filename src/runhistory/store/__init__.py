"""Persistence of everything but file contents: the :class:`TrackingStore` interface.

The SQL implementation lives in :mod:`runhistory.store.sql`.
"""

from runhistory.store.base import UNCHANGED, TrackingStore

__all__ = ["UNCHANGED", "TrackingStore"]
