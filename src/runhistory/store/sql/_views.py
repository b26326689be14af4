"""Saved views of experiments' runs tables in the SQL store."""

from __future__ import annotations

import time

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from runhistory.errors import NotFoundError
from runhistory.store.sql._common import SqlStoreBase, require_experiment
from runhistory.store.sql.schema import saved_views
from runhistory.tracking.entities import SavedView

_view = saved_views.c


def _to_view(row: object) -> SavedView:
    found = row._mapping  # type: ignore[attr-defined]
    return SavedView(found["experiment_id"], found["name"], found["state"],
                     found["created_time"], found["updated_time"])  # fmt: skip


class ViewsMixin(SqlStoreBase):
    """The saved-view methods of :class:`~runhistory.store.sql.SqlTrackingStore`."""

    def list_views(self, experiment_id: str) -> list[SavedView]:
        def work(conn: Connection) -> list[SavedView]:
            require_experiment(conn, experiment_id)
            query = select(saved_views).where(_view.experiment_id == experiment_id)
            return [_to_view(r) for r in conn.execute(query.order_by(_view.name))]

        return self._read(work)

    def save_view(self, experiment_id: str, name: str, state: str) -> SavedView:
        def work(conn: Connection) -> SavedView:
            require_experiment(conn, experiment_id)
            now = time.time()
            mine = (_view.experiment_id == experiment_id) & (_view.name == name)
            replace = update(saved_views).where(mine).values(state=state, updated_time=now)
            changed = conn.execute(replace)
            if not changed.rowcount:
                conn.execute(saved_views.insert().values(
                    experiment_id=experiment_id, name=name, state=state, created_time=now,
                    updated_time=now,
                ))  # fmt: skip
            return _to_view(conn.execute(select(saved_views).where(mine)).one())

        return self._write(work)

    def delete_view(self, experiment_id: str, name: str) -> None:
        def work(conn: Connection) -> None:
            mine = (_view.experiment_id == experiment_id) & (_view.name == name)
            if not conn.execute(delete(saved_views).where(mine)).rowcount:
                raise NotFoundError(f"experiment {experiment_id!r} has no view named {name!r}")

        self._write(work)
