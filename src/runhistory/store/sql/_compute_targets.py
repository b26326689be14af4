"""Named compute targets in the SQL store: one row per name, settings as JSON text."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from runhistory.errors import ConflictError, NotFoundError
from runhistory.store.sql._common import SqlStoreBase
from runhistory.store.sql.schema import compute_targets as table
from runhistory.tracking.entities import ComputeTargetInfo


def _entity(row: Any) -> ComputeTargetInfo:
    return ComputeTargetInfo(
        name=row.name,
        kind=row.kind,
        created_time=row.created_time,
        config=orjson.loads(row.config),
    )


def _missing(name: str) -> NotFoundError:
    return NotFoundError(f"no compute target named {name!r} in this workspace", name=name)


class ComputeTargetsMixin(SqlStoreBase):
    """Named compute targets of :class:`~runhistory.store.sql.SqlTrackingStore`."""

    def create_compute_target(self, target: ComputeTargetInfo) -> ComputeTargetInfo:
        """Store a new named target (ConflictError if the name is taken)."""
        row = {
            "name": target.name,
            "kind": target.kind,
            "created_time": target.created_time,
            "config": orjson.dumps(target.config).decode(),
        }

        def work(conn: Connection) -> None:
            taken = conn.execute(select(table.c.name).where(table.c.name == target.name)).first()
            if taken is not None:
                raise ConflictError(
                    f"a compute target named {target.name!r} already exists; detach it first",
                    name=target.name,
                )
            try:
                conn.execute(insert(table).values(**row))
            except IntegrityError as exc:
                raise ConflictError(
                    f"a compute target named {target.name!r} already exists", name=target.name
                ) from exc

        self._write(work)
        return target

    def get_compute_target(self, name: str) -> ComputeTargetInfo:
        """A named target (NotFoundError if there is none)."""

        def work(conn: Connection) -> ComputeTargetInfo:
            row = conn.execute(select(table).where(table.c.name == name)).first()
            if row is None:
                raise _missing(name)
            return _entity(row)

        return self._read(work)

    def list_compute_targets(self) -> list[ComputeTargetInfo]:
        """Every named target, by name."""
        query = select(table).order_by(table.c.name)
        return self._read(lambda conn: [_entity(row) for row in conn.execute(query)])

    def delete_compute_target(self, name: str) -> None:
        """Forget a named target (NotFoundError if there is none)."""

        def work(conn: Connection) -> None:
            if conn.execute(delete(table).where(table.c.name == name)).rowcount == 0:
                raise _missing(name)

        self._write(work)
