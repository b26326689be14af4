"""Rules for metrics: kinds never change, steps are all-or-nothing, documents are valid."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runhistory.errors import NotFoundError, ValidationError
from runhistory.tracking.entities import (
    MetricColumns,
    MetricInfo,
    MetricInfoPage,
    MetricSeries,
    MetricWrite,
    RunInfo,
    SeriesX,
    WriteBatch,
)
from runhistory.tracking.metric_errors import kind_rule_error as kind_rule_error
from runhistory.tracking.metric_errors import step_rule_error as step_rule_error
from runhistory.tracking.metrics import DOCUMENT_KINDS, collate, decode_documents
from runhistory.tracking.validation import check_write

if TYPE_CHECKING:
    from runhistory.store.base import TrackingStore

MAX_NAMES_PAGE = 10_000


class MetricRules:
    """The metric part of :class:`~runhistory.tracking.service.TrackingService`."""

    store: TrackingStore
    _metric_shapes: dict[tuple[str, str], tuple[str, bool | None]]
    _new_runs: set[str]

    if TYPE_CHECKING:  # provided by RunRules in the composed service

        def get_run(self, run_id: str) -> RunInfo: ...

        def get_children(self, run_id: str, recursive: bool = False) -> list[RunInfo]: ...

    def log_metrics(
        self, run_id: str, writes: Sequence[MetricWrite], batch_id: str | None = None
    ) -> bool:
        """Store points of several metrics of one run; returns ``False`` for a repeated batch.

        Raises:
            InvalidMetricError: a write breaks a rule of the validator (nothing is stored).
        """
        writes = [w for w in writes if w.points]
        if not writes:
            return True
        for write in writes:
            self._check_write(run_id, write)
        batch_ids = {run_id: batch_id} if batch_id is not None else {}
        batch = WriteBatch(metrics={run_id: writes}, batch_ids=batch_ids)
        outcome = self.store.write_changes(batch)
        self._remember_shapes(run_id, writes)
        return run_id not in outcome.repeated

    def _check_write(self, run_id: str, write: MetricWrite) -> None:
        """The validator's rules, then the metric's stored kind and step rule."""
        check_write(write)
        has_step = _has_step(write)
        shape = self._metric_shape(run_id, write.name)
        if shape is not None:
            kind, stored_step = shape
            if kind != write.kind:
                raise kind_rule_error(write.name, kind, write.kind)
            if stored_step is not None and stored_step != has_step:
                raise step_rule_error(write.name, stored_step)

    def _metric_shape(self, run_id: str, name: str) -> tuple[str, bool | None] | None:
        key = (run_id, name)
        if key not in self._metric_shapes and run_id not in self._new_runs:
            if len(self._metric_shapes) > 100_000:
                self._metric_shapes.clear()
            for info in self.store.get_metric_infos(run_id):
                self._metric_shapes[(run_id, info.name)] = (info.kind, info.has_step)
        return self._metric_shapes.get(key)

    def _mark_new_run(self, run_id: str) -> None:
        """A run created just now: every shape of its metrics is in the cache (none yet)."""
        if len(self._new_runs) > 100_000:
            self._new_runs.clear()
        self._new_runs.add(run_id)

    def _remember_shapes(self, run_id: str, writes: Sequence[MetricWrite]) -> None:
        for write in writes:
            self._metric_shapes[(run_id, write.name)] = (write.kind, _has_step(write))

    def get_metric_infos(self, run_id: str) -> list[MetricInfo]:
        """Every metric of a run with its kind, count and last value."""
        return self.store.get_metric_infos(run_id)

    def get_metric_infos_page(
        self,
        run_id: str,
        page_size: int = 1000,
        page_token: str | None = None,
        search: str | None = None,
    ) -> MetricInfoPage:
        """One page of a run's metrics ordered by name, optionally only names containing
        ``search`` (any case); ``next_page_token`` continues it.

        Raises:
            ValidationError: ``page_token`` is not a token of this listing, or ``page_size``
                is out of range.
        """
        from runhistory.tracking.paging import decode_name_token, encode_name_token, scope_of

        if isinstance(page_size, bool) or not 1 <= page_size <= MAX_NAMES_PAGE:
            raise ValidationError(
                f"page_size must be between 1 and {MAX_NAMES_PAGE}, not {page_size!r}",
                page_size=page_size,
            )
        scope = scope_of({"metrics_of": run_id, "search": search or ""})
        after = decode_name_token(page_token, scope) if page_token is not None else None
        found = self.store.get_metric_infos_page(run_id, page_size + 1, after, search or None)
        more = len(found) > page_size
        found = found[:page_size]
        token = encode_name_token(found[-1].name, scope) if more else None
        return MetricInfoPage(found, token)

    def get_metrics(
        self,
        run_id: str,
        name: str | None = None,
        recursive: bool = False,
        run_type: str | None = None,
    ) -> dict[str, Any]:
        """Metrics in the original SDK's shapes; keyed by run id over the subtree if recursive."""
        if not recursive:
            return self._run_metrics(run_id, name)
        runs = [self.get_run(run_id), *self.get_children(run_id, recursive=True)]
        return {
            r.run_id: self._run_metrics(r.run_id, name)
            for r in runs
            if run_type is None or r.run_type == run_type
        }

    def _run_metrics(self, run_id: str, name: str | None) -> dict[str, Any]:
        infos = self.store.get_metric_infos(run_id)
        if not infos:
            self.store.get_run(run_id)  # a missing run raises NotFoundError
        result: dict[str, Any] = {}
        for info in infos:
            if name is None or info.name == name:
                result[info.name] = collate(
                    info.kind, self.store.get_metric_columns(run_id, info.name)
                )
        return result

    def get_metric_history(
        self,
        run_id: str,
        name: str,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> MetricColumns:
        """Every stored point of one metric with its step and time, in logging order."""
        kind = next((i.kind for i in self.store.get_metric_infos(run_id) if i.name == name), None)
        if kind is None:
            raise NotFoundError(f"run {run_id!r} has no metric named {name!r}")
        columns = self.store.get_metric_columns(run_id, name, min_step=min_step, max_step=max_step)
        if kind in DOCUMENT_KINDS:
            columns = dataclasses.replace(columns, values=decode_documents(columns.values))
        return columns

    def get_metric_series(
        self,
        run_ids: Sequence[str],
        names: Sequence[str],
        max_points: int = 1000,
        min_step: int | None = None,
        max_step: int | None = None,
        x: SeriesX = "step",
    ) -> list[MetricSeries]:
        """Chart-ready series for every (run, metric name) pair that exists, by step or by
        logging time (``x="time"``)."""
        if not 2 <= max_points <= 100_000:
            raise ValidationError(f"max_points must be between 2 and 100000, got {max_points}")
        if x not in ("step", "time"):
            raise ValidationError(f"x must be 'step' or 'time', got {x!r}")
        return self.store.get_metric_series(run_ids, names, max_points, min_step, max_step, x=x)


def _has_step(write: MetricWrite) -> bool | None:
    """True/False when all points agree on having a step, None when they are mixed."""
    steps = write.columns()[0]
    missing = steps.count(None) if isinstance(steps, (list, tuple)) else list(steps).count(None)
    if missing == 0:
        return True
    return False if missing == len(steps) else None
