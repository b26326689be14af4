"""HyperDriveRun: the parent run of a sweep, and what its children found."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from runhistory.errors import ValidationError
from runhistory.hyperdrive.children import HYPERPARAMETERS
from runhistory.hyperdrive.submission import HYPERDRIVE_RUN_TYPE, SWEEP
from runhistory.sdk.run import Run
from runhistory.tracking import status as st

if TYPE_CHECKING:
    from runhistory.hyperdrive.config import HyperDriveConfig
    from runhistory.sdk.experiment import Experiment

__all__ = ["HyperDriveRun"]


class HyperDriveRun(Run):
    """A submitted sweep (run type ``hyperdrive``): status, cancel, and its children's results.

    ``Experiment.submit(HyperDriveConfig(...))`` returns one; ``HyperDriveRun(experiment, run_id)``
    loads an existing sweep.

    Example:
        >>> sweep = experiment.submit(hd_config)  # doctest: +SKIP
        >>> sweep.wait_for_completion()  # doctest: +SKIP
        >>> best = sweep.get_best_run_by_primary_metric()  # doctest: +SKIP
    """

    RUN_TYPE = HYPERDRIVE_RUN_TYPE

    def __init__(
        self,
        experiment: Experiment,
        run_id: str,
        hyperdrive_config: HyperDriveConfig | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(experiment, run_id, **kwargs)
        if self._info.run_type != HYPERDRIVE_RUN_TYPE:
            raise ValidationError(f"run {run_id!r} is a {self._info.run_type!r} run, not a sweep")
        self._hyperdrive_config = hyperdrive_config
        self._sweep: dict[str, Any] | None = None

    @property
    def hyperdrive_config(self) -> HyperDriveConfig | None:
        """The configuration this run was submitted with (None when loaded by id)."""
        return self._hyperdrive_config

    def _settings(self) -> dict[str, Any]:
        if self._sweep is None:
            definition = self._backend.get_run(self.id).run_definition or {}
            self._sweep = dict(definition.get(SWEEP) or {})
        return self._sweep

    @property
    def _metric(self) -> str:
        return str(self._settings()["primary_metric_name"])

    @property
    def _maximize(self) -> bool:
        return bool(self._settings()["primary_metric_goal"] == "MAXIMIZE")

    # ---- children's results ---------------------------------------------------------------
    def _children(self) -> list[Run]:
        return list(self.get_children())

    def _primary_values(self, children: list[Run]) -> dict[str, list[float]]:
        series = self._backend.get_metric_series(
            [c.id for c in children], [self._metric], max_points=100_000
        )
        return {found.run_id: list(found.y) for found in series if found.y}

    def get_hyperparameters(self) -> dict[str, dict[str, Any]]:
        """Each child's hyper-parameters, ``{child run id: {name: value}}``."""
        return {child.id: _hyperparameters(child) for child in self._children()}

    def get_metrics(self, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        """Each child's metrics, ``{child run id: {metric: value(s)}}``."""
        return {child.id: child.get_metrics() for child in self._children()}

    def get_children_sorted_by_primary_metric(
        self, top: int = 0, reverse: bool = False, discard_no_metric: bool = False
    ) -> list[dict[str, Any]]:
        """Children best first by their best primary metric (as the goal says).

        Each entry has ``run_id``, ``hyperparameters``, ``best_primary_metric`` and ``status``.
        Children without the metric come last (or not at all with ``discard_no_metric``);
        ``reverse`` reverses only the children with the metric; ``top`` > 0 keeps that many.
        """
        children = self._children()
        values = self._primary_values(children)
        pick = max if self._maximize else min
        scored: list[dict[str, Any]] = []
        unscored: list[dict[str, Any]] = []
        for child in children:
            entry = {
                "run_id": child.id,
                "hyperparameters": _hyperparameters(child),
                "best_primary_metric": pick(values[child.id]) if child.id in values else None,
                "status": child.get_status(),
            }
            (scored if child.id in values else unscored).append(entry)
        scored.sort(key=lambda e: e["best_primary_metric"], reverse=self._maximize != reverse)
        ordered = scored if discard_no_metric else scored + unscored
        return ordered[:top] if top > 0 else ordered

    def get_best_run_by_primary_metric(
        self,
        include_failed: bool = True,
        include_canceled: bool = True,
        include_resume_from_runs: bool = True,
    ) -> Run | None:
        """The child with the best primary metric (max or min as the goal says), or None."""
        skip = set()
        if not include_failed:
            skip.add(st.FAILED)
        if not include_canceled:
            skip.add(st.CANCELED)
        for entry in self.get_children_sorted_by_primary_metric(discard_no_metric=True):
            if entry["status"] not in skip:
                return Run.get(self._experiment.workspace, entry["run_id"])
        return None

    def cancel(self) -> bool:  # type: ignore[override]
        """Cancel the sweep: its controller cancels every active child, then ends Canceled.

        Returns:
            True once the sweep is Canceled.
        """
        super().cancel()
        return self.get_status() == st.CANCELED

    def fail(self, *args: Any, **kwargs: Any) -> None:
        """Not available: a sweep ends through its controller; use :meth:`cancel`."""
        raise ValidationError("a HyperDriveRun cannot be failed by hand; use cancel()")


def _hyperparameters(child: Run) -> dict[str, Any]:
    text = child.properties.get(HYPERPARAMETERS)
    found: dict[str, Any] = json.loads(text) if text else {}
    return found


Run.add_type_provider(HYPERDRIVE_RUN_TYPE, HyperDriveRun)
