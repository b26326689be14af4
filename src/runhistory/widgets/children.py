"""A parent run's children for the widget: their runs, last metric values and curves."""

from __future__ import annotations

from typing import Any

from runhistory.tracking import status as st
from runhistory.tracking.entities import RunInfo
from runhistory.widgets.source import LINE_KINDS, RunSource, run_record, series_record, shown_value

CURVE_POINTS_BUDGET = 40_000  # points of all children's curves together, per refresh


class ChildRuns:
    """Reads the children of a run; a child's values are read again only while it is live."""

    def __init__(self, source: RunSource, run_id: str) -> None:
        self._source = source
        self._run_id = run_id
        self._last: dict[str, dict[str, Any]] = {}
        self._counts: dict[str, dict[str, int]] = {}
        self._final: set[str] = set()
        self._curves: tuple[object, list[dict[str, Any]]] = ((), [])

    def read(self, curve_metric: str | None, max_points: int) -> dict[str, Any]:
        """``{"children", "children_last", "children_series", "curve_metric"}``.

        ``curve_metric`` names the metric whose curve of every child is wanted (a sweep's
        primary metric); ``""`` picks the first line metric the children have, None none.
        """
        children = self._source.get_children(self._run_id)
        for child in children:
            if child.run_id not in self._final:
                self._read_values(child)
        if curve_metric == "":
            curve_metric = next((n for c in self._counts.values() for n in c), None)
        return {
            "children": [run_record(c) for c in children],
            "children_last": {c.run_id: self._last.get(c.run_id, {}) for c in children},
            "children_series": self._read_curves(children, curve_metric, max_points),
            "curve_metric": curve_metric or "",
        }

    def _read_values(self, child: RunInfo) -> None:
        infos = [i for i in self._source.get_metric_infos(child.run_id) if i.kind in LINE_KINDS]
        self._last[child.run_id] = {i.name: shown_value(i.last_value) for i in infos}
        self._counts[child.run_id] = {i.name: i.count for i in infos}
        if st.is_terminal(child.status):  # values are complete once a run has ended
            self._final.add(child.run_id)

    def _read_curves(
        self, children: list[RunInfo], name: str | None, max_points: int
    ) -> list[dict[str, Any]]:
        if not name:
            return []
        having = [c.run_id for c in children if name in self._counts.get(c.run_id, {})]
        points = max(50, min(max_points, CURVE_POINTS_BUDGET // max(1, len(having))))
        key = (name, points, tuple((r, self._counts[r][name]) for r in having))
        if key != self._curves[0]:
            found = self._source.get_metric_series(having, [name], points) if having else []
            self._curves = (key, [series_record(s) for s in found])
        return self._curves[1]
