"""The widget's model on the kernel side: an ``anywidget`` whose traits mirror the run's state.

The browser side is ``static/run_details.js``, built by the studio's Vite build from the
studio's own components (``make studio``). Traits change only when the state changed, so an
idle run sends nothing to the browser.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from runhistory.errors import ConfigurationError

BUNDLE = Path(__file__).resolve().parent / "static" / "run_details.js"
DEFAULT_POINTS = 1000
STATE_TRAITS = (
    "run", "metrics", "series", "documents", "log", "children", "children_last",
    "children_series", "curve_metric", "primary_metric", "hyperdrive", "studio_url", "portal_url",
)  # fmt: skip

DetailReader = Callable[[list[str], str, int, int | None, int | None], list[dict[str, Any]]]


def bundle_source() -> str:
    """The browser module's code.

    Raises:
        ConfigurationError: the front end was not built (a source checkout without npm).
    """
    if not BUNDLE.is_file():
        raise ConfigurationError(
            f"the notebook widget's browser code is missing ({BUNDLE}): build it with "
            "`make studio` (needs Node.js and npm), or install a runhistory wheel"
        )
    return BUNDLE.read_text(encoding="utf-8")


class RunDetailsWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """The live view of one run (made by :class:`runhistory.widgets.RunDetails`)."""

    _esm = traitlets.Unicode("").tag(sync=True)
    run = traitlets.Dict().tag(sync=True)
    metrics: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    series: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    documents = traitlets.Dict().tag(sync=True)
    log = traitlets.Dict().tag(sync=True)
    children: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    children_last = traitlets.Dict().tag(sync=True)
    children_series: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    curve_metric = traitlets.Unicode("").tag(sync=True)
    primary_metric = traitlets.Dict().tag(sync=True)
    hyperdrive = traitlets.Bool(False).tag(sync=True)
    studio_url = traitlets.Unicode("").tag(sync=True)
    portal_url = traitlets.Unicode("").tag(sync=True)
    polling = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    max_points = traitlets.Int(DEFAULT_POINTS).tag(sync=True)  # set by the browser: chart width

    def __init__(self, detail: DetailReader, on_close: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(_esm=bundle_source(), **kwargs)
        self._detail = detail
        self._on_close = on_close
        self.on_msg(self._answer)

    def show_state(self, state: dict[str, Any]) -> None:
        """Set the traits from a collected state (one message for all that changed)."""
        with self.hold_sync():
            for name in STATE_TRAITS:
                if name in state:
                    setattr(self, name, state[name])

    def close(self) -> None:
        """Close the widget: its views disappear and its run is no longer polled."""
        self._on_close()
        super().close()

    def _answer(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Full-resolution points of a zoomed chart: ``{"type": "detail", "id", ...}``."""
        if not isinstance(content, dict) or content.get("type") != "detail":
            return
        try:
            found = self._detail(
                [str(r) for r in content.get("run_ids", [])],
                str(content.get("name", "")),
                int(content.get("max_points", DEFAULT_POINTS)),
                _optional_int(content.get("min_step")),
                _optional_int(content.get("max_step")),
            )
            self.send({"type": "detail", "id": content.get("id"), "series": found})
        except Exception as exc:  # the chart keeps its overview
            self.send({"type": "detail", "id": content.get("id"), "error": str(exc)})


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
