"""Rules for runs: identity, lifecycle transitions, tags, add-only properties, queries."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from runhistory.errors import ConflictError, InvalidTransitionError, NotFoundError, ValidationError
from runhistory.store.base import TrackingStore
from runhistory.tracking import status as st
from runhistory.tracking.entities import (
    PropertyChange,
    RunCursor,
    RunGroup,
    RunInfo,
    RunQuery,
    RunsPage,
    RunUpdate,
    TagChange,
    WriteBatch,
    WriteOutcome,
)
from runhistory.tracking.liveness import present, stored_statuses
from runhistory.tracking.paging import (
    decode_order_token,
    decode_token,
    encode_order_token,
    encode_token,
    scope_of,
)
from runhistory.tracking.run_filters import parse_sort, parse_text, parse_where
from runhistory.tracking.run_records import (
    check_run_fields,
    new_run,
    new_run_id,
    refusal_error,
    status_write,
)
from runhistory.tracking.run_sorting import SortedRunQuery
from runhistory.tracking.validation import check_filter, check_properties, check_tags, check_text

_UPDATABLE = ("display_name", "description", "run_definition", "target")
_ID_ATTEMPTS = 3
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 10_000


class RunRules:
    """The run half of :class:`~runhistory.tracking.service.TrackingService`."""

    store: TrackingStore
    heartbeat_timeout: float

    def create_run(
        self,
        experiment_id: str,
        run_id: str | None = None,
        parent_run_id: str | None = None,
        status: str = st.NOT_STARTED,
        display_name: str | None = None,
        description: str | None = None,
        run_type: str = "experimentrun",
        target: str = "local",
        tags: object = None,
        properties: object = None,
        run_definition: dict[str, Any] | None = None,
        submitted_by: str | None = None,
    ) -> RunInfo:
        """Create a run (a child when ``parent_run_id`` is given) in ``status``; submitted by
        ``submitted_by`` (default: this process's user).

        Raises:
            ConflictError: ``run_id`` was given and a run has it. A made id that happens to
                exist already is replaced by a new one: a clash never loses the run.
        """
        experiment = self.store.get_experiment(experiment_id)
        if parent_run_id is not None:
            self.store.get_run(parent_run_id)
        create = new_run(
            experiment_id, experiment.name, status, run_id=run_id, parent_run_id=parent_run_id,
            display_name=display_name, description=description, run_type=run_type,
            target=target, tags=tags, properties=properties, run_definition=run_definition,
            submitted_by=submitted_by,
        )  # fmt: skip
        for attempt in range(_ID_ATTEMPTS):
            try:
                self._write_batch(WriteBatch(creates=[create]))
                break
            except ConflictError:
                if not self._run_exists(create.run_id):
                    raise
                if run_id is not None or attempt == _ID_ATTEMPTS - 1:
                    raise ConflictError(
                        f"a run with id {create.run_id!r} already exists", run_id=create.run_id
                    ) from None
                create.run_id = new_run_id(parent_run_id or experiment.name)
        return self.store.get_run(create.run_id)

    def _run_exists(self, run_id: str) -> bool:
        try:
            self.store.get_run(run_id)
        except NotFoundError:
            return False
        return True

    def _write_batch(self, batch: WriteBatch) -> WriteOutcome:
        """Store a batch of one call's changes; a refused change raises its error."""
        outcome = self.store.write_changes(batch)
        if outcome.refusals:
            raise refusal_error(outcome.refusals[0])
        return outcome

    def get_run(self, run_id: str) -> RunInfo:
        """The run with this id; a running run whose heartbeat stopped shows NotResponding."""
        return self._present(self.store.get_run(run_id))

    def get_runs(self, run_ids: Sequence[str], with_definition: bool = False) -> list[RunInfo]:
        """The runs of these ids that exist, in the order asked, as :meth:`get_run` shows them."""
        return [self._present(run) for run in self.store.get_runs(run_ids, with_definition)]

    def _present(self, run: RunInfo) -> RunInfo:
        return present(run, self.heartbeat_timeout)

    def set_status(
        self,
        run_id: str,
        status: str,
        error: dict[str, Any] | None = None,
        expected: Sequence[str] | None = None,
    ) -> RunInfo:
        """Move a run to ``status``; terminal runs refuse every further transition.

        ``expected`` narrows the statuses the run may be in for the change to happen (a
        supervisor moving a job on passes the active statuses but CancelRequested, so that a
        cancel asked for meanwhile is not overwritten).

        Raises:
            InvalidTransitionError: the run is finished, or not in one of ``expected``.
        """
        write = status_write(run_id, status, time.time(), error)
        if expected is not None:
            wanted = {st.check_status_name(name) for name in expected}
            write.expected = tuple(s for s in write.expected if s in wanted)
        refusals = self.store.write_changes(WriteBatch(statuses=[write])).refusals
        if refusals:
            current = refusals[0].current or ""
            st.check_transition(run_id, current, status)
            raise InvalidTransitionError(
                f"run {run_id!r} is {current}; it can become {status} only from "
                f"{', '.join(write.expected) or 'no status'}",
                run_id=run_id,
                status=current,
                requested=status,
            )
        return self.store.get_run(run_id)

    def heartbeat(self, run_id: str) -> None:
        """Record that the run's process is alive."""
        self._write_batch(WriteBatch(updates=[RunUpdate(run_id, {"heartbeat_time": time.time()})]))

    def update_run(self, run_id: str, **fields: Any) -> RunInfo:
        """Change ``display_name``, ``description``, ``run_definition`` or ``target``."""
        unknown = set(fields) - set(_UPDATABLE)
        if unknown:
            raise ValidationError(
                f"cannot update run field(s) {sorted(unknown)}; updatable: {', '.join(_UPDATABLE)}"
            )
        if fields:
            self._write_batch(WriteBatch(updates=[RunUpdate(run_id, check_run_fields(fields))]))
        return self.store.get_run(run_id)

    def set_run_tags(self, run_id: str, tags: object) -> None:
        """Insert or overwrite run tags (a tag may have the value ``None``)."""
        self._write_batch(WriteBatch(tags=[TagChange(run_id, check_tags(tags))]))

    def remove_run_tags(self, run_id: str, keys: Sequence[str]) -> None:
        """Remove run tags; keys that are not there are ignored."""
        wanted = [keys] if isinstance(keys, str) else list(keys)
        for key in wanted:
            check_text(key, "tag key")
        self._write_batch(WriteBatch(tags=[TagChange(run_id, remove=tuple(wanted))]))

    def add_run_properties(self, run_id: str, properties: object) -> None:
        """Add properties, all or none: re-adding a key with another value raises
        ``PropertyImmutableError`` (checked in the same transaction that adds them)."""
        change = PropertyChange(run_id, check_properties(properties))
        if change.properties:
            self._write_batch(WriteBatch(properties=[change]))

    def search_runs(
        self,
        experiment_id: str | None = None,
        run_type: str | None = None,
        tags: object = None,
        properties: object = None,
        status: str | Sequence[str] | None = None,
        include_children: bool = False,
        parent_run_id: str | None = None,
        root_run_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        with_definition: bool = True,
        created_after: float | None = None,
        created_before: float | None = None,
    ) -> list[RunInfo]:
        """Runs matching every filter, newest first.

        ``with_definition=False`` leaves each run's ``run_definition`` out (``None``): listings
        rarely need it and it is the biggest part of a run. ``created_after`` (inclusive) and
        ``created_before`` (exclusive) bound the creation time, in epoch seconds.
        """
        statuses = _statuses(status)
        query = replace(
            _run_query(
                experiment_id, run_type, tags, properties, statuses, include_children,
                parent_run_id, root_run_id, with_definition, created_after, created_before,
            ),
            limit=limit, offset=offset,
        )  # fmt: skip
        runs = [self._present(r) for r in self.store.search_runs(query)]
        if statuses is not None:
            runs = [r for r in runs if r.status in statuses]
        return runs

    def search_runs_after(
        self,
        experiment_id: str,
        after: RunCursor | None,
        limit: int,
        include_children: bool = True,
    ) -> list[RunInfo]:
        """Up to ``limit`` runs of an experiment strictly after ``after`` in the listing's
        order (newest first; from the start without one), read by keyset, never an offset.
        Runs are listed without their ``run_definition``."""
        query = _run_query(
            experiment_id, None, None, None, None, include_children, None, None, False
        )
        found = self.store.search_runs(replace(query, after=after, limit=limit))
        return [self._present(r) for r in found]

    def search_runs_sorted(self, query: SortedRunQuery) -> list[tuple[RunInfo, tuple[Any, ...]]]:
        """Runs of some experiments in MLflow's ``order_by`` order, each with its sort key,
        read by keyset after ``query.after`` (see :mod:`runhistory.tracking.run_sorting`).
        Runs are listed without their ``run_definition``."""
        return [(self._present(r), key) for r, key in self.store.search_runs_sorted(query)]

    def search_runs_page(
        self,
        experiment_id: str | None = None,
        run_type: str | None = None,
        tags: object = None,
        properties: object = None,
        status: str | Sequence[str] | None = None,
        include_children: bool = False,
        parent_run_id: str | None = None,
        root_run_id: str | None = None,
        with_definition: bool = True,
        page_size: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
        created_after: float | None = None,
        created_before: float | None = None,
        where: Sequence[str] | None = None,
        text: str | None = None,
        sort: str | None = None,
    ) -> RunsPage:
        """One page of :meth:`search_runs` (keyset paging, never an offset).

        Pass the page's ``next_page_token`` to get the next one; runs created meanwhile never
        make a run of the pages still to come skipped or repeated. A page may hold fewer than
        ``page_size`` runs (even none) and still have a next page.

        ``where`` terms compare properties, tags and metrics' last values
        (``property:lr<0.1``, ``metric:loss<=0.5``), ``text`` keeps runs holding every word,
        and ``sort`` orders by another column (``name``, ``-property:lr``, ``metric:loss``;
        see :mod:`runhistory.tracking.run_filters`), paged by keyset over that column.

        Raises:
            ValidationError: ``page_token`` is not a token of this listing (same filters and
                order), or a ``where`` term or ``sort`` cannot be read.
        """
        statuses = _statuses(status)
        query = replace(
            _run_query(
                experiment_id, run_type, tags, properties, statuses, include_children,
                parent_run_id, root_run_id, with_definition, created_after, created_before,
            ),
            conditions=parse_where(where), text=parse_text(text), order=parse_sort(sort),
        )  # fmt: skip
        return self._page(query, statuses, page_size, page_token)

    def count_matching_runs(
        self,
        experiment_id: str | None = None,
        run_type: str | None = None,
        tags: object = None,
        properties: object = None,
        status: str | Sequence[str] | None = None,
        include_children: bool = False,
        created_after: float | None = None,
        created_before: float | None = None,
        where: Sequence[str] | None = None,
        text: str | None = None,
        parent_run_id: str | None = None,
    ) -> int:
        """How many runs :meth:`search_runs_page` would list (one counting query, no rows
        read; ``where`` and ``text`` as there).

        A status filter naming Running or NotResponding counts both: which running run has
        stopped answering is decided when it is read.
        """
        query = replace(
            _run_query(
                experiment_id, run_type, tags, properties, _statuses(status), include_children,
                parent_run_id, None, False, created_after, created_before,
            ),
            conditions=parse_where(where), text=parse_text(text),
        )  # fmt: skip
        return self.store.count_matching_runs(query)

    def group_runs(
        self,
        experiment_id: str,
        by: str,
        metric: str | None = None,
        tags: object = None,
        properties: object = None,
        status: str | Sequence[str] | None = None,
        include_children: bool = False,
        where: Sequence[str] | None = None,
        text: str | None = None,
    ) -> list[RunGroup]:
        """The runs of an experiment that match the filters (as :meth:`search_runs_page`),
        grouped by a property or tag value (``by``: ``property:<key>`` or ``tag:<key>``), with
        each group's number of runs and mean last value of ``metric``; largest groups first.

        Raises:
            ValidationError: ``by`` is not a property or tag, or a filter cannot be read.
        """
        query = replace(
            _run_query(
                experiment_id, None, tags, properties, _statuses(status), include_children,
                None, None, False,
            ),
            conditions=parse_where(where), text=parse_text(text),
        )  # fmt: skip
        self.store.get_experiment(experiment_id)
        return self.store.group_runs(query, by, metric)

    def count_children(self, run_ids: Sequence[str]) -> dict[str, int]:
        """How many direct children each run of ``run_ids`` has (runs without any left out)."""
        if len(run_ids) > MAX_PAGE_SIZE:
            raise ValidationError(f"at most {MAX_PAGE_SIZE} runs at once, got {len(run_ids)}")
        return self.store.count_children(run_ids)

    def _page(
        self,
        query: RunQuery,
        statuses: tuple[str, ...] | None,
        page_size: int,
        page_token: str | None,
        keep: Callable[[RunInfo], bool] | None = None,
        scope_extra: str = "",
    ) -> RunsPage:
        if isinstance(page_size, bool) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValidationError(
                f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size!r}",
                page_size=page_size,
            )
        scope = scope_of({**_scope_fields(query), "statuses": statuses, "extra": scope_extra})
        if query.order is not None:
            key = decode_order_token(page_token, scope) if page_token is not None else None
            keyed = self.store.search_runs_ordered(
                replace(query, after_key=key, limit=page_size + 1)
            )
            more = len(keyed) > page_size
            found = [run for run, _ in keyed[:page_size]]
            token = encode_order_token(keyed[page_size - 1][1], scope) if more else None
        else:
            after = decode_token(page_token, scope) if page_token is not None else None
            found = self.store.search_runs(replace(query, after=after, limit=page_size + 1))
            more = len(found) > page_size
            found = found[:page_size]
            token = encode_token(RunCursor.of(found[-1]), scope) if more else None
        runs = [self._present(r) for r in found]
        if statuses is not None:
            runs = [r for r in runs if r.status in statuses]
        if keep is not None:
            runs = [r for r in runs if keep(r)]
        return RunsPage(runs, token)

    def get_children(
        self,
        run_id: str,
        recursive: bool = False,
        tags: object = None,
        properties: object = None,
        run_type: str | None = None,
        status: str | Sequence[str] | None = None,
    ) -> list[RunInfo]:
        """Direct children of a run, or all descendants with ``recursive``."""
        found: list[RunInfo] = []
        token: str | None = None
        while True:
            page = self.get_children_page(
                run_id, recursive, tags, properties, run_type, status,
                page_size=MAX_PAGE_SIZE, page_token=token,
            )  # fmt: skip
            found.extend(page.items)
            token = page.next_page_token
            if token is None:
                return found

    def get_children_page(
        self,
        run_id: str,
        recursive: bool = False,
        tags: object = None,
        properties: object = None,
        run_type: str | None = None,
        status: str | Sequence[str] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> RunsPage:
        """One page of :meth:`get_children`, newest first (see :meth:`search_runs_page`)."""
        run = self.store.get_run(run_id)
        statuses = _statuses(status)
        parent = None if recursive else run_id
        root = (run.root_run_id or run_id) if recursive else None
        query = _run_query(None, run_type, tags, properties, statuses, True, parent, root, True)
        keep: Callable[[RunInfo], bool] | None = None
        if recursive and run.root_run_id is not None:  # a subtree of a bigger tree

            def keep(r: RunInfo) -> bool:
                return _descends_from(r, run_id, self.store)

        scope = f"children:{run_id}:{recursive}"
        return self._page(query, statuses, page_size, page_token, keep, scope)

    def delete_run(self, run_id: str) -> None:
        """Delete a run with its children, metrics and files."""
        self.store.get_run(run_id)
        self.store.delete_run(run_id)


def _run_query(
    experiment_id: str | None,
    run_type: str | None,
    tags: object,
    properties: object,
    statuses: tuple[str, ...] | None,
    include_children: bool,
    parent_run_id: str | None,
    root_run_id: str | None,
    with_definition: bool,
    created_after: float | None = None,
    created_before: float | None = None,
) -> RunQuery:
    return RunQuery(
        created_after=_time_bound("created_after", created_after),
        created_before=_time_bound("created_before", created_before),
        experiment_id=experiment_id,
        parent_run_id=parent_run_id,
        root_run_id=root_run_id,
        run_type=run_type,
        statuses=_stored_statuses(statuses),
        tags=check_filter("tag", tags),
        properties=check_filter("property", properties),
        include_children=include_children,
        with_definition=with_definition,
    )


def _scope_fields(query: RunQuery) -> dict[str, Any]:
    """The filters of ``query`` (what a continuation token is bound to)."""
    return {
        "experiment_id": query.experiment_id, "parent_run_id": query.parent_run_id,
        "root_run_id": query.root_run_id, "run_type": query.run_type, "tags": query.tags,
        "properties": query.properties, "include_children": query.include_children,
        "created_after": query.created_after, "created_before": query.created_before,
        "conditions": [[c.kind, c.key, c.op, c.value] for c in query.conditions],
        "text": query.text,
        "order": None if query.order is None else [query.order.column, query.order.desc],
    }  # fmt: skip


def _time_bound(name: str, value: object) -> float | None:
    """A creation-time bound: a finite number of epoch seconds, or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(
            f"{name} must be a time in seconds since the epoch, not {value!r}", parameter=name
        )
    return float(value)


def _statuses(status: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if status is None:
        return None
    wanted = (status,) if isinstance(status, str) else tuple(status)
    for name in wanted:
        st.check_status_name(name)
    return wanted


def _stored_statuses(wanted: tuple[str, ...] | None) -> tuple[str, ...] | None:
    return stored_statuses(wanted)


def _descends_from(run: RunInfo, ancestor_id: str, store: TrackingStore) -> bool:
    parent = run.parent_run_id
    while parent is not None:
        if parent == ancestor_id:
            return True
        parent = store.get_run(parent).parent_run_id
    return False
