"""Everything the widget shows of a run, read in one pass: the state sent to the browser."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from runhistory.tracking import status as st
from runhistory.widgets.children import ChildRuns
from runhistory.widgets.log_tail import LastLines
from runhistory.widgets.metrics import RunMetrics
from runhistory.widgets.source import RunSource, run_record

if TYPE_CHECKING:
    from runhistory.sdk.run import Run

SWEEP_RUN_TYPE = "hyperdrive"


def primary_metric(properties: dict[str, str]) -> dict[str, str]:
    """A sweep's primary metric ``{"name", "goal"}`` from its parent's properties, or ``{}``.

    The original SDK's ``primary_metric_config`` (JSON ``{"name": …, "goal": …}``) is read,
    else ``primary_metric_name`` with ``primary_metric_goal``.
    """
    raw = properties.get("primary_metric_config")
    if raw:
        try:
            config = json.loads(raw)
        except ValueError:
            config = None
        if isinstance(config, dict) and config.get("name"):
            return {"name": str(config["name"]), "goal": str(config.get("goal") or "")}
    name = properties.get("primary_metric_name")
    if name:
        return {"name": name, "goal": properties.get("primary_metric_goal", "")}
    return {}


class RunCollector:
    """Reads a run (and its children) through the SDK's backend for the widget.

    Each :meth:`collect` returns the whole state; the parts that did not change are served
    from memory (series and documents are fetched again only when their point count changed,
    the log only when it grew, a child's values only while it is live).
    """

    def __init__(self, run: Run) -> None:
        from runhistory.sdk.run import Run

        # A Run object of its own: refreshing it never races with the user's object.
        self._run = Run(run.experiment, run.id, _info=run._info)
        self._source: RunSource = run._backend
        self._metrics = RunMetrics(self._source, run.id)
        self._log = LastLines(self._source, run.id)
        self._children = ChildRuns(self._source, run.id)
        self._lock = threading.Lock()  # the poller and the notebook's own calls may overlap

    @property
    def source(self) -> RunSource:
        """The backend the run is read from."""
        return self._source

    def collect(self, max_points: int) -> dict[str, Any]:
        """The widget's state now (JSON-ready)."""
        with self._lock:
            return self._read(max_points)

    def _read(self, max_points: int) -> dict[str, Any]:
        self._run._refresh()  # also notices a submitted job that is gone
        info = self._run._info
        sweep = info.run_type.lower() == SWEEP_RUN_TYPE
        primary = primary_metric(info.properties)
        curve = primary.get("name", "") if sweep else None
        return {
            "run": run_record(info),
            **self._metrics.read(max_points),
            "log": self._log.read(),
            **self._children.read(curve, max_points),
            "primary_metric": primary,
            "hyperdrive": sweep,
            **self.links(),
        }

    def links(self) -> dict[str, str]:
        """``{"studio_url", "portal_url"}``: the studio and the run's page (``""`` if unknown).

        Asked at each refresh: a ``runhistory ui`` started later is linked to at once.
        """
        from runhistory.sdk.portal import known_studio_base

        experiment = self._run.experiment
        base = known_studio_base(experiment.workspace) or ""
        page = f"{base}/#/experiments/{experiment.id}/runs/{self._run.id}" if base else ""
        return {"studio_url": base, "portal_url": page}


def is_live(state: dict[str, Any]) -> bool:
    """Whether the run or one of its children may still change."""
    statuses = [state["run"]["status"], *(c["status"] for c in state.get("children", []))]
    return not all(st.is_terminal(s) for s in statuses)
