"""What the widget reads from a workspace: the backend methods it calls, and JSON-ready records.

The widget reads a run through the same backend as the SDK (the embedded tracking service or
the remote client of a server), so it works alike in both. Values go to the browser as JSON:
non-finite floats become ``null`` in chart series and ``{"$float": "nan"}`` elsewhere.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, BinaryIO, Protocol

from runhistory.client.wire import tag_floats
from runhistory.tracking.entities import FileInfo, MetricInfo, MetricSeries, RunInfo

LINE_KINDS = frozenset({"scalar", "list"})  # drawn as line charts, from downsampled series


class RunSource(Protocol):
    """The backend methods the widget calls (both backends have them)."""

    def get_run(self, run_id: str) -> RunInfo: ...

    def get_children(self, run_id: str) -> list[RunInfo]: ...

    def get_metric_infos(self, run_id: str) -> list[MetricInfo]: ...

    def get_metrics(self, run_id: str, name: str | None = None) -> dict[str, Any]: ...

    def get_metric_series(
        self,
        run_ids: Sequence[str],
        names: Sequence[str],
        max_points: int = 1000,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> list[MetricSeries]: ...

    def list_files(self, run_id: str, prefix: str | None = None) -> list[FileInfo]: ...

    def open_file(self, run_id: str, name: str, offset: int = 0) -> BinaryIO: ...


def run_record(info: RunInfo) -> dict[str, Any]:
    """A run as the studio's REST API sends it, without its (large) definition."""
    fields = {f.name: getattr(info, f.name) for f in dataclasses.fields(info)}
    fields["run_definition"] = None
    fields["tags"] = dict(info.tags)
    fields["properties"] = dict(info.properties)
    return tag_floats(fields)  # type: ignore[no-any-return]


def metric_record(info: MetricInfo) -> dict[str, Any]:
    """A metric's summary (kind, count, last value)."""
    fields = {f.name: getattr(info, f.name) for f in dataclasses.fields(info)}
    fields["last_value"] = shown_value(info.last_value)
    return fields


def series_record(series: MetricSeries) -> dict[str, Any]:
    """A downsampled series; a non-finite y is a gap (``null``)."""
    finite = math.isfinite
    return {
        "run_id": series.run_id,
        "name": series.name,
        "kind": series.kind,
        "count": series.count,
        "downsampled": series.downsampled,
        "x": list(series.x),
        "y": [y if y is None or finite(y) else None for y in series.y],
    }


def shown_value(value: Any) -> Any:
    """A metric value fit for JSON: NaN and infinities become the strings ``nan``, ``inf``."""
    if type(value) is float and not math.isfinite(value):
        return repr(value)
    if isinstance(value, list):
        return [shown_value(v) for v in value]
    return tag_floats(value)
