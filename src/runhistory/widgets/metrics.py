"""A run's metrics for the widget: summaries, downsampled line series, and the other kinds."""

from __future__ import annotations

from typing import Any

from runhistory.tracking.entities import MetricInfo
from runhistory.widgets.source import (
    LINE_KINDS,
    RunSource,
    metric_record,
    series_record,
    shown_value,
)


class RunMetrics:
    """Reads a run's metrics, fetching again only those whose point count changed.

    Line metrics (scalars and lists) come as series downsampled by the tracking service to
    ``max_points`` per metric (min and max of each bucket kept), as the studio draws them;
    tables, rows, structured kinds and images come in the ``get_metrics()`` shapes.
    """

    def __init__(self, source: RunSource, run_id: str) -> None:
        self._source = source
        self._run_id = run_id
        self._counts: dict[str, int] = {}
        self._points = 0
        self._series: dict[str, dict[str, Any]] = {}
        self._documents: dict[str, Any] = {}

    def read(self, max_points: int) -> dict[str, Any]:
        """``{"metrics", "series", "documents"}`` of the run now."""
        infos = self._source.get_metric_infos(self._run_id)
        fresh = max_points != self._points
        changed = [i for i in infos if fresh or self._counts.get(i.name) != i.count]
        self._read_series([i.name for i in changed if i.kind in LINE_KINDS], max_points)
        for info in changed:
            if info.kind not in LINE_KINDS:
                self._documents[info.name] = self._document(info)
        self._counts = {i.name: i.count for i in infos}
        self._points = max_points
        lines = [i.name for i in infos if i.kind in LINE_KINDS and i.name in self._series]
        return {
            "metrics": [metric_record(i) for i in infos],
            "series": [self._series[name] for name in lines],
            "documents": {
                i.name: self._documents[i.name] for i in infos if i.name in self._documents
            },
        }

    def _read_series(self, names: list[str], max_points: int) -> None:
        if not names:
            return
        for found in self._source.get_metric_series([self._run_id], names, max_points):
            self._series[found.name] = series_record(found)

    def _document(self, info: MetricInfo) -> Any:
        value = self._source.get_metrics(self._run_id, name=info.name).get(info.name)
        return shown_value(value)
