"""The SQL tracking store (SQLite or PostgreSQL through SQLAlchemy Core).

SQLAlchemy is imported when the store is first used, not with this package: the read-only
listing reader of :mod:`runhistory.store.sql.lean_reader` lives here too and must stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runhistory.lazy import lazy_getattr

if TYPE_CHECKING:
    from runhistory.store.sql.store import SqlTrackingStore

__all__ = ["SqlTrackingStore", "open_store"]

__getattr__ = lazy_getattr(__name__, {"SqlTrackingStore": "runhistory.store.sql.store"}, globals())


def open_store(uri: str) -> SqlTrackingStore:
    """Open (creating or migrating as needed) the store at a ``sqlite:///`` or
    ``postgresql://`` URI.

    Raises:
        SchemaVersionError: the database was written by a newer runhistory.
        StorageError: the database cannot be opened.
    """
    from runhistory.store.sql.store import SqlTrackingStore

    return SqlTrackingStore(uri)
