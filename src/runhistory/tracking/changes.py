"""Rules for batches of run changes: the service side of write-behind runs.

The SDK creates runs and changes their tags, properties and status without waiting for the
database: it queues the changes and its writer thread hands them over here in batches. The
rules are the same as for the one-at-a-time methods (which are batches of one) — validated
names and values, add-only properties, terminal runs refusing transitions — and a batch is
stored in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from runhistory.errors import RunhistoryError, StorageError, ValidationError
from runhistory.store.base import TrackingStore
from runhistory.tracking import status as st
from runhistory.tracking.change_pieces import by_run, single_changes
from runhistory.tracking.entities import (
    MetricWrite,
    PropertyChange,
    RunChanges,
    RunCreate,
    RunUpdate,
    TagChange,
    WriteBatch,
)
from runhistory.tracking.metric_errors import kind_rule_error
from runhistory.tracking.run_records import check_run_fields, refusal_error, status_write
from runhistory.tracking.validation import (
    MAX_TAG_VALUE,
    check_optional_text,
    check_properties,
    check_tags,
    check_text,
)


class ChangeRules:
    """The batch part of :class:`~runhistory.tracking.service.TrackingService`."""

    store: TrackingStore

    if TYPE_CHECKING:  # provided by MetricRules in the composed service

        def _check_write(self, run_id: str, write: MetricWrite) -> None: ...

        def _remember_shapes(self, run_id: str, writes: Sequence[MetricWrite]) -> None: ...

        def _mark_new_run(self, run_id: str) -> None: ...

    def stored_environments(self, ids: Sequence[str], look: bool = True) -> set[str]:
        """Which of these environment ids are stored (a run may name one instead of carrying
        it: see :mod:`runhistory.tracking.run_environments`); ``look=False`` answers only
        from what the store knows already, without asking its database."""
        return self.store.stored_environments(ids, look)

    def write_changes(
        self,
        changes: RunChanges,
        batch_id: str | None = None,
        tag_value_limit: int = MAX_TAG_VALUE,
        property_value_limit: int = MAX_TAG_VALUE,
    ) -> list[RunhistoryError]:
        """Store a batch of run changes in one transaction.

        Tag and property values are at most ``MAX_TAG_VALUE`` characters unless the caller
        keeps another contract (MLflow's API: tags 8,000, params 6,000).

        Returns the errors of changes that were refused while the rest was stored (a property
        that already has another value, a status change of a finished run); each names its
        run in ``fields["run_id"]``.

        With ``batch_id`` the batch is stored once: that id is recorded with it, and a batch
        whose id was recorded before is skipped as a whole (a client's retry) and returns
        no refusals (those of the first try were answered to it).

        Raises:
            RunhistoryError: the batch was refused as a whole and nothing was stored (bad
                input, a missing run or experiment, a metric logged as another kind); the
                writer then stores it again run by run, change by change.
        """
        batch = self._prepared(changes, batch_id, tag_value_limit, property_value_limit)
        outcome = self.store.write_changes(batch)
        if outcome.replayed:
            return []
        for run_id, writes in batch.metrics.items():
            self._remember_shapes(run_id, writes)
        return [refusal_error(r) for r in outcome.refusals]

    def _prepared(
        self,
        changes: RunChanges,
        batch_id: str | None,
        tag_value_limit: int = MAX_TAG_VALUE,
        property_value_limit: int = MAX_TAG_VALUE,
    ) -> WriteBatch:
        """The store's batch of checked changes (see :meth:`write_changes`).

        Raises:
            RunhistoryError: a change breaks a rule; the batch is refused as a whole.
        """
        limits = (tag_value_limit, property_value_limit)
        # Checked where they were made (the SDK's queue), under these very limits.
        checked = changes.checked and limits == (MAX_TAG_VALUE, MAX_TAG_VALUE)
        creates = changes.creates
        if not checked:
            creates = [_checked_create(c, *limits) for c in creates]
        for create in creates:
            self._mark_new_run(create.run_id)
        metrics: dict[str, list[MetricWrite]] = {}
        for run_id, writes in changes.metrics.items():
            kept = [w for w in writes if w.points]
            _check_kinds_agree(run_id, kept)
            for write in kept:
                self._check_write(run_id, write)
            if kept:
                metrics[run_id] = kept
        claim = None
        if batch_id is not None:
            run_ids = changes.run_ids()
            claim = (run_ids[0], batch_id) if run_ids else None
        return WriteBatch(
            claim=claim,
            creates=creates,
            updates=[RunUpdate(c.run_id, check_run_fields(c.fields)) for c in changes.updates],
            tags=changes.tags if checked else [_checked_tags(c, tag_value_limit)
                                               for c in changes.tags],
            properties=changes.properties if checked else [
                PropertyChange(c.run_id, check_properties(c.properties, property_value_limit))
                for c in changes.properties],
            metrics=metrics,  # type: ignore[arg-type]
            statuses=[status_write(c.run_id, c.status, c.time, c.error) for c in changes.statuses],
        )  # fmt: skip

    def write_changes_together(
        self, group: Sequence[tuple[RunChanges, str]]
    ) -> list[list[RunhistoryError]]:
        """Store batches of run changes that arrived together (``(changes, batch id)``, of
        different runs) in one transaction; returns each batch's errors, as
        :meth:`write_changes_apart` would.

        Each batch is checked on its own first: one that breaks a rule is stored alone by
        :meth:`write_changes_apart` (so only its offending change is lost). The others are
        stored as one batch, each batch id recorded with it. If the store refuses that as a
        whole (a missing run, a batch stored before), every batch is stored again on its own,
        so one batch never costs another anything. Batches that change the same run are
        stored one by one, in order.

        Raises:
            StorageError: the store is unavailable; retry the batches not answered yet.
        """
        if len(group) < 2 or not _apart(group):
            return [self.write_changes_apart(changes, batch_id) for changes, batch_id in group]
        errors: list[list[RunhistoryError]] = [[] for _ in group]
        ready: list[tuple[int, WriteBatch]] = []
        alone: list[int] = []
        for index, (changes, batch_id) in enumerate(group):
            try:
                ready.append((index, self._prepared(changes, batch_id)))
            except RunhistoryError:
                alone.append(index)
        if len(ready) > 1:
            try:
                errors = self._write_merged(ready, errors)
            except StorageError:
                raise
            except RunhistoryError:
                alone.extend(index for index, _ in ready)
        else:
            alone.extend(index for index, _ in ready)
        for index in sorted(alone):
            errors[index] = self.write_changes_apart(*group[index])
        return errors

    def _write_merged(
        self, ready: list[tuple[int, WriteBatch]], errors: list[list[RunhistoryError]]
    ) -> list[list[RunhistoryError]]:
        owner: dict[str, int] = {}
        merged = WriteBatch(creates=[], updates=[], tags=[], properties=[], statuses=[])
        claims: list[tuple[str, str]] = []
        for index, batch in ready:
            for part in ("creates", "updates", "tags", "properties", "statuses"):
                getattr(merged, part).extend(getattr(batch, part))
            merged.metrics.update(batch.metrics)
            owner.update(dict.fromkeys(_runs_of(batch), index))
            if batch.claim is not None:
                claims.append(batch.claim)
        merged.claims = claims
        outcome = self.store.write_changes(merged)
        for run_id, writes in merged.metrics.items():
            self._remember_shapes(run_id, writes)
        for refusal in outcome.refusals:
            errors[owner[refusal.run_id]].append(refusal_error(refusal))
        return errors

    def write_changes_apart(
        self, changes: RunChanges, batch_id: str | None = None
    ) -> list[RunhistoryError]:
        """Store a batch like :meth:`write_changes`, but never refuse it as a whole: a batch
        refused as a whole is stored again run by run, and a refused run's changes one by
        one, so only the offending change is lost (as the SDK's writer does).

        Returns the errors of every change left out, each naming its run in
        ``fields["run_id"]``. The pieces are stored once too (under ``batch_id#run`` and
        ``batch_id#run.change``), and the whole ``batch_id`` is recorded after them when its
        first run exists, so a retried batch is skipped.

        Raises:
            StorageError: the store is unavailable; nothing more was stored (retry it).
        """
        try:
            return self.write_changes(changes, batch_id)
        except StorageError:
            raise
        except RunhistoryError:
            pass
        errors: list[RunhistoryError] = []
        for index, (run_id, mine) in enumerate(by_run(changes)):
            sub_id = None if batch_id is None else f"{batch_id}#{index}"
            try:
                errors += self.write_changes(mine, sub_id)
                continue
            except StorageError:
                raise
            except RunhistoryError:
                pass
            errors += self._write_one_by_one(run_id, mine, sub_id)
        run_ids = changes.run_ids()
        if batch_id is not None and run_ids and self.store.get_runs(run_ids[:1]):
            self.store.write_changes(WriteBatch(claim=(run_ids[0], batch_id)))
        return errors

    def _write_one_by_one(
        self, run_id: str, mine: RunChanges, batch_id: str | None
    ) -> list[RunhistoryError]:
        errors: list[RunhistoryError] = []
        pieces = single_changes(mine)
        for done, piece in enumerate(pieces):
            try:
                errors += self.write_changes(piece, batch_id and f"{batch_id}.{done}")
            except StorageError:
                raise
            except RunhistoryError as exc:
                exc.fields.setdefault("run_id", run_id)
                errors.append(exc)
                if piece.creates:  # nothing else of the run can be stored without it
                    if len(pieces) > done + 1:
                        exc.message += f" ({len(pieces) - done - 1} later changes of the run lost)"
                    break
        return errors


def _apart(group: Sequence[tuple[RunChanges, str]]) -> bool:
    """Whether no two batches of the group change the same run."""
    seen: set[str] = set()
    for changes, _ in group:
        mine = set(changes.run_ids())
        if mine & seen:
            return False
        seen |= mine
    return True


def _runs_of(batch: WriteBatch) -> set[str]:
    found: set[str] = set(batch.metrics)
    for part in (batch.creates, batch.updates, batch.tags, batch.properties, batch.statuses):
        found.update(c.run_id for c in part)
    return found


def _checked_create(
    create: RunCreate, tag_limit: int = MAX_TAG_VALUE, property_limit: int = MAX_TAG_VALUE
) -> RunCreate:
    st.check_status_name(create.status)
    check_text(create.run_id, "run_id", 255)
    fields = {"display_name": create.display_name, "description": create.description,
              "target": create.target, "run_definition": create.run_definition}  # fmt: skip
    check_run_fields(fields)
    check_text(create.run_type, "run_type", 255)
    check_optional_text(create.parent_run_id, "parent_run_id", 255)
    check_optional_text(create.submitted_by, "submitted_by", 255)
    create.tags = check_tags(create.tags, tag_limit)  # numbers become strings, as in create_run
    create.properties = check_properties(create.properties, property_limit)
    return create


def _checked_tags(change: TagChange, limit: int = MAX_TAG_VALUE) -> TagChange:
    for key in change.remove:
        if not isinstance(key, str):
            raise ValidationError(f"tag keys to remove must be strings, got {key!r:.80}")
    return TagChange(change.run_id, check_tags(change.set, limit), tuple(change.remove))


def _check_kinds_agree(run_id: str, writes: list[MetricWrite]) -> None:
    kinds: dict[str, str] = {}
    for write in writes:
        known = kinds.setdefault(write.name, write.kind)
        if known != write.kind:
            error = kind_rule_error(write.name, known, write.kind)
            error.fields["run_id"] = run_id
            raise error
