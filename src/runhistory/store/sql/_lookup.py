"""Reading many runs at once: runs and metric infos of a list of run ids in one transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.engine import Connection

from runhistory.store.sql._common import SqlStoreBase, chunks
from runhistory.store.sql._metrics import _to_info as _metric_info
from runhistory.store.sql._runs import _fetch, _select_runs
from runhistory.store.sql.schema import metrics, runs
from runhistory.tracking.entities import MetricInfo, RunInfo


class LookupMixin(SqlStoreBase):
    """``get_runs`` and ``get_metric_infos_of``: one query per chunk of ids, not one per run."""

    def get_runs(self, run_ids: Sequence[str], with_definition: bool = False) -> list[RunInfo]:
        def work(conn: Connection) -> list[RunInfo]:
            found: dict[str, RunInfo] = {}
            for chunk in chunks(list(dict.fromkeys(run_ids))):
                query = _select_runs(with_definition).where(runs.c.id.in_(chunk))
                found.update((run.run_id, run) for run in _fetch(conn, query))
            return [found[run_id] for run_id in dict.fromkeys(run_ids) if run_id in found]

        return self._read(work)

    def get_metric_infos_of(self, run_ids: Sequence[str]) -> list[MetricInfo]:
        def work(conn: Connection) -> list[MetricInfo]:
            found: list[MetricInfo] = []
            for chunk in chunks(list(dict.fromkeys(run_ids))):
                query = select(metrics).where(metrics.c.run_id.in_(chunk))
                found.extend(_metric_info(row) for row in conn.execute(query))
            order = {run_id: i for i, run_id in enumerate(dict.fromkeys(run_ids))}
            return sorted(found, key=lambda info: (order[info.run_id], info.name))

        return self._read(work)
