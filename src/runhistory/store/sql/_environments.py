"""The environment registry in the SQL store: plain Core statements on one table."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Select, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from runhistory.errors import NotFoundError
from runhistory.store.sql._common import SqlStoreBase, VersionTaken, write_next_version
from runhistory.store.sql.schema import registered_environments as table
from runhistory.tracking.entities import EnvironmentVersion


def _entity(row: Any) -> EnvironmentVersion:
    return EnvironmentVersion(
        name=row.name,
        version=row.version,
        created_time=row.created_time,
        definition=orjson.loads(row.definition),
    )


def _get(conn: Connection, name: str, version: int | None) -> EnvironmentVersion:
    query = select(table).where(table.c.name == name)
    if version is None:
        query = query.order_by(table.c.version.desc()).limit(1)
    else:
        query = query.where(table.c.version == version)
    row = conn.execute(query).first()
    if row is None:
        shown = f"{name!r}" if version is None else f"{name!r} with version {version}"
        raise NotFoundError(f"no registered environment {shown}", name=name, version=version)
    return _entity(row)


class EnvironmentsMixin(SqlStoreBase):
    """Registered environments of :class:`~runhistory.store.sql.SqlTrackingStore`."""

    def create_environment_version(
        self, name: str, definition: dict[str, Any], created_time: float
    ) -> EnvironmentVersion:
        """Store ``definition`` as the next version (1, 2, …) of ``name``."""
        text = orjson.dumps(definition).decode()

        def work(conn: Connection) -> EnvironmentVersion:
            latest = conn.execute(select(func.max(table.c.version)).where(table.c.name == name))
            version = int(latest.scalar() or 0) + 1
            row = {"name": name, "version": version, "created_time": created_time,
                   "definition": text}  # fmt: skip
            try:
                conn.execute(insert(table).values(**row))
            except IntegrityError as exc:
                raise VersionTaken from exc
            return _get(conn, name, version)

        return write_next_version(self, work, f"environment {name!r}")

    def get_environment_version(self, name: str, version: int | None = None) -> EnvironmentVersion:
        """A registered version; the latest when ``version`` is None."""
        return self._read(lambda conn: _get(conn, name, version))

    def list_environment_versions(
        self, name: str | None = None, latest: bool = False
    ) -> list[EnvironmentVersion]:
        """Versions ordered by name, newest first; ``latest`` keeps one per name."""
        query: Select[Any] = select(table).order_by(table.c.name, table.c.version.desc())
        if name is not None:
            query = query.where(table.c.name == name)
        found = self._read(lambda conn: [_entity(row) for row in conn.execute(query)])
        if latest:  # newest version first within a name: keep the first of each
            found = list({e.name: e for e in reversed(found)}.values())[::-1]
        return found
