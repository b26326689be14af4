"""Rules for batches of run changes: the service side of write-behind runs.

The SDK creates runs and changes their tags, properties and status without waiting for the
database: it queues the changes and its writer thread hands them over here in batches. The
rules are the same as for the one-at-a-time methods — validated names and values, add-only
properties, terminal runs refusing transitions — and a batch is stored in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from runhistory.errors import InvalidTransitionError, RunhistoryError
from runhistory.store.base import TrackingStore
from runhistory.tracking import status as st
from runhistory.tracking.entities import (
    MetricWrite,
    Refusal,
    RunChanges,
    RunCreate,
    TagChange,
)
from runhistory.tracking.metric_rules import kind_rule_error
from runhistory.tracking.runs import property_conflict, status_write
from runhistory.tracking.validation import check_properties, check_tags


class ChangeRules:
    """The batch part of :class:`~runhistory.tracking.service.TrackingService`."""

    store: TrackingStore

    if TYPE_CHECKING:  # provided by MetricRules in the composed service

        def _check_write(self, run_id: str, write: MetricWrite) -> None: ...

        def _remember_shapes(self, run_id: str, writes: Sequence[MetricWrite]) -> None: ...

        def _mark_new_run(self, run_id: str) -> None: ...

    def write_changes(self, changes: RunChanges) -> list[RunhistoryError]:
        """Store a batch of run changes in one transaction.

        Returns the errors of changes that were refused while the rest was stored (a property
        that already has another value, a status change of a finished run).

        Raises:
            RunhistoryError: the batch was refused as a whole and nothing was stored (bad
                input, a missing run or experiment, a metric logged as another kind).
        """
        creates = [_checked_create(c) for c in changes.creates]
        for create in creates:
            self._mark_new_run(create.run_id)
        tags = [TagChange(c.run_id, check_tags(c.set), tuple(c.remove)) for c in changes.tags]
        properties = [(c.run_id, check_properties(c.properties)) for c in changes.properties]
        metrics: dict[str, list[MetricWrite]] = {}
        for run_id, writes in changes.metrics.items():
            kept = [w for w in writes if w.points]
            _check_kinds_agree(kept)
            for write in kept:
                self._check_write(run_id, write)
            if kept:
                metrics[run_id] = kept
        statuses = [status_write(c.run_id, c.status, c.time, c.error) for c in changes.statuses]
        refusals = self.store.write_changes(creates, tags, properties, metrics, statuses)
        for run_id, writes in metrics.items():
            self._remember_shapes(run_id, writes)
        return [_refusal_error(r) for r in refusals]


def _checked_create(create: RunCreate) -> RunCreate:
    st.check_status_name(create.status)
    create.tags = check_tags(create.tags)  # numbers become strings, as in create_run
    create.properties = check_properties(create.properties)
    return create


def _check_kinds_agree(writes: list[MetricWrite]) -> None:
    kinds: dict[str, str] = {}
    for write in writes:
        known = kinds.setdefault(write.name, write.kind)
        if known != write.kind:
            raise kind_rule_error(write.name, known, write.kind)


def _refusal_error(refusal: Refusal) -> RunhistoryError:
    if refusal.what == "property":
        assert refusal.key is not None and refusal.current is not None
        return property_conflict(refusal.run_id, refusal.key, refusal.current, refusal.wanted)
    try:
        st.check_transition(refusal.run_id, refusal.current or "", refusal.wanted or "")
    except RunhistoryError as exc:
        return exc
    return InvalidTransitionError(
        f"run {refusal.run_id!r} is {refusal.current}; it cannot become {refusal.wanted} now",
        run_id=refusal.run_id,
    )
