"""``RunDetails``: the live view of a run in a Jupyter notebook (``azureml.widgets`` alias)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runhistory import settings
from runhistory.errors import ConfigurationError
from runhistory.widgets.collect import RunCollector, is_live
from runhistory.widgets.poller import Poller
from runhistory.widgets.source import series_record
from runhistory.widgets.summary import duration_text, in_notebook, summary_line

if TYPE_CHECKING:
    from runhistory.sdk.run import Run
    from runhistory.widgets.model import RunDetailsWidget


class RunDetails:
    """A notebook widget that shows a run live until it ends.

    It shows the status and duration, tags and properties, the metrics as the studio draws
    them (line charts downsampled to the chart's width, tables, structured charts), the last
    lines of ``logs/std_log.txt``, the child runs with their primary metric and, for a
    HyperDrive parent (run type ``hyperdrive``), the children's curves and a
    parallel-coordinates chart of their hyper-parameters; plus a link to the run in the studio
    when a studio URL is known. A background thread of the kernel refreshes it every
    ``RUNHISTORY_WIDGET_POLL_SECONDS`` (2 s) and stops when the run and its children have
    ended, or when the widget is closed. Outside a notebook, :meth:`show` prints a summary line.

    Args:
        run_instance: the run to show (any :class:`~runhistory.Run`, on any backend).

    Example:
        >>> from azureml.widgets import RunDetails  # doctest: +SKIP
        >>> RunDetails(run).show()  # doctest: +SKIP
    """

    def __init__(self, run_instance: Run) -> None:
        self.run_instance = run_instance
        self.widget_instance: RunDetailsWidget | None = None
        self.settings: dict[str, Any] = {}
        self._collector = RunCollector(run_instance)
        self._poller: Poller | None = None
        self._state: dict[str, Any] = {}

    def show(
        self,
        render_lib: Callable[[str], Any] | None = None,
        widget_settings: dict[str, Any] | None = None,
    ) -> None:
        """Display the widget and start refreshing it while the run is live.

        Outside a notebook (or without the ``notebook`` extra) prints a one-line summary and
        the studio link instead.

        Args:
            render_lib: a function that displays HTML (Databricks' ``displayHTML``): it gets
                the summary and the link as HTML instead of the widget.
            widget_settings: ``{"debug": True}`` shows the traceback of a failed refresh.
        """
        self.settings = dict(widget_settings or {})
        if render_lib is not None:
            render_lib(self._summary_html())
            return
        if not in_notebook():
            print(self._summary_text(), flush=True)
            return
        try:
            widget = self._widget()
        except (ImportError, ConfigurationError) as exc:
            print(f"{self._summary_text()}\n(no live widget: {_why(exc)})", flush=True)
            return
        from IPython.display import display

        display(widget)  # type: ignore[no-untyped-call]
        self._start(widget)

    def get_widget_data(self, widget_settings: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data the widget shows, read now (also where no notebook is at hand).

        Returns the original SDK's keys: ``status``, ``workbench_run_details_uri`` (the studio
        page, ``""`` when no studio URL is known), ``run_id``, ``run_properties`` (ids, times,
        ``run_duration``, ``properties``, ``tags``, ``log_files``), ``child_runs``,
        ``children_metrics`` (each child's last metric values, and for a HyperDrive parent its
        primary metric and the children's downsampled curves of it), ``run_metrics`` (metric
        summaries with the line metrics' downsampled ``series``), ``run_logs`` (the last lines
        of the log), ``graph`` (empty) and ``widget_settings``.
        """
        state = self._collector.collect(self._points())
        run = state["run"]
        series = {s["name"]: s for s in state["series"]}
        return {
            "status": run["status"],
            "workbench_run_details_uri": state["portal_url"],
            "run_id": run["run_id"],
            "run_properties": _run_properties(state),
            "child_runs": state["children"],
            "children_metrics": {
                "last_values": state["children_last"],
                "primary_metric": state["primary_metric"],
                "curve_metric": state["curve_metric"],
                "curves": state["children_series"],
            },
            "run_metrics": [{**m, "series": series.get(m["name"])} for m in state["metrics"]],
            "run_logs": state["log"]["text"],
            "graph": {},
            "widget_settings": widget_settings,
        }

    def close(self) -> None:
        """Stop refreshing and close the widget."""
        if self.widget_instance is not None:
            self.widget_instance.close()
        self._stop()

    # ---- internals ------------------------------------------------------------------
    def _widget(self) -> RunDetailsWidget:
        from runhistory.widgets.model import RunDetailsWidget

        widget = RunDetailsWidget(detail=self._detail, on_close=self._stop)
        self._state = self._collector.collect(widget.max_points)
        widget.show_state(self._state)
        widget.observe(self._points_changed, names="max_points")
        self.widget_instance = widget
        return widget

    def _start(self, widget: RunDetailsWidget) -> None:
        self._stop()
        if not is_live(self._state):
            return  # an ended run shows what it has: nothing to poll
        poller = Poller(
            self.run_instance.id,
            collect=lambda: self._collector.collect(widget.max_points),
            publish=widget.show_state,
            report=lambda error: setattr(widget, "error", error),
            done=lambda: setattr(widget, "polling", False),
            interval=float(settings.get("RUNHISTORY_WIDGET_POLL_SECONDS")),
            debug=bool(self.settings.get("debug")),
        )
        widget.polling = True
        self._poller = poller
        poller.start()

    def _stop(self) -> None:
        if self._poller is not None:
            self._poller.stop()

    def _points_changed(self, change: dict[str, Any]) -> None:
        """The browser measured its charts: an ended run is read again at that resolution."""
        widget = self.widget_instance
        if widget is not None and not (self._poller and self._poller.running):
            widget.show_state(self._collector.collect(int(change["new"])))

    def _points(self) -> int:
        widget = self.widget_instance
        return widget.max_points if widget is not None else 1000

    def _detail(
        self, run_ids: list[str], name: str, points: int, low: int | None, high: int | None
    ) -> list[dict[str, Any]]:
        source = self._collector.source
        found = source.get_metric_series(run_ids, [name], points, min_step=low, max_step=high)
        return [series_record(s) for s in found]

    def _summary_text(self) -> str:
        state = self._collector.collect(self._points())
        return f"{summary_line(state)}\nWeb View: {self.run_instance.get_portal_url()}"

    def _summary_html(self) -> str:
        line, link = self._summary_text().split("\nWeb View: ", 1)
        href, text = html.escape(link, quote=True), html.escape(link)
        return f'<p>{html.escape(line)}<br><a href="{href}" target="_blank">{text}</a></p>'


def _run_properties(state: dict[str, Any]) -> dict[str, Any]:
    run = state["run"]
    log = state["log"]
    return {
        "run_id": run["run_id"],
        "run_number": run["number"],
        "status": run["status"],
        "created_utc": run["created_time"],
        "start_time_utc": run["start_time"],
        "end_time_utc": run["end_time"],
        "run_duration": duration_text(run),
        "properties": run["properties"],
        "tags": run["tags"],
        "log_files": {log["name"]: log["size"]} if log["name"] else {},
    }


def _why(exc: Exception) -> str:
    if isinstance(exc, ImportError):
        return 'install the notebook extra: pip install "runhistory[notebook]"'
    return str(exc)
