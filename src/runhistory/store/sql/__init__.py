"""The SQL tracking store (SQLite or PostgreSQL through SQLAlchemy Core)."""

from runhistory.store.sql.store import SqlTrackingStore

__all__ = ["SqlTrackingStore", "open_store"]


def open_store(uri: str) -> SqlTrackingStore:
    """Open (creating or migrating as needed) the store at a ``sqlite:///`` or
    ``postgresql://`` URI.

    Raises:
        SchemaVersionError: the database was written by a newer runhistory.
        StorageError: the database cannot be opened.
    """
    return SqlTrackingStore(uri)
