"""Rules for runs: identity, lifecycle transitions, tags, add-only properties, queries."""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from typing import Any

from runhistory.errors import InvalidTransitionError, PropertyImmutableError, ValidationError
from runhistory.store.base import TrackingStore
from runhistory.tracking import status as st
from runhistory.tracking.entities import RunCreate, RunInfo, RunQuery, StatusWrite
from runhistory.tracking.validation import check_filter, check_properties, check_tags

_UPDATABLE = ("display_name", "description", "run_definition", "target")


def new_run_id(prefix: str) -> str:
    """A run id in the original SDK's style: ``<prefix>_<unix time>_<8 hex digits>``."""
    return f"{prefix}_{int(time.time())}_{os.urandom(4).hex()}"


@cache
def current_user() -> str:
    """Who is submitting, for ``submittedBy`` (looked up once per process)."""
    try:
        return getpass.getuser()
    except Exception:
        return os.environ.get("USER", "unknown")


def new_run(
    experiment_id: str,
    experiment_name: str,
    status: str,
    run_id: str | None = None,
    parent_run_id: str | None = None,
    display_name: str | None = None,
    description: str | None = None,
    run_type: str = "experimentrun",
    target: str = "local",
    tags: object = None,
    properties: object = None,
    run_definition: dict[str, Any] | None = None,
    submitted_by: str | None = None,
) -> RunCreate:
    """A run about to be created: its id (made here unless given), creation and start times,
    who submits it (default: this process's user), and its checked tags and properties."""
    st.check_status_name(status)
    now = time.time()
    return RunCreate(
        run_id=run_id or new_run_id(parent_run_id or experiment_name),
        experiment_id=experiment_id,
        status=status,
        created_time=now,
        parent_run_id=parent_run_id,
        display_name=display_name,
        description=description,
        run_type=run_type,
        target=target,
        submitted_by=submitted_by or current_user(),
        start_time=now if status == st.RUNNING else None,
        run_definition=run_definition or None,
        tags=check_tags(tags or {}),
        properties=check_properties(properties or {}),
    )


def pending_info(create: RunCreate, experiment_name: str) -> RunInfo:
    """What a run queued for creation will be once stored (``number`` is 0 until then)."""
    return RunInfo.of(
        {
            "run_id": create.run_id, "experiment_id": create.experiment_id,
            "experiment_name": experiment_name, "number": 0, "status": create.status,
            "created_time": create.created_time, "parent_run_id": create.parent_run_id,
            "root_run_id": None, "display_name": create.display_name,
            "description": create.description, "run_type": create.run_type,
            "target": create.target, "submitted_by": create.submitted_by,
            "start_time": create.start_time, "end_time": None, "heartbeat_time": None,
            "snapshot_id": None, "error": None, "run_definition": create.run_definition,
            "tags": dict(create.tags), "properties": dict(create.properties),
        }
    )  # fmt: skip


def property_conflict(
    run_id: str, key: str, current: str, wanted: str | None
) -> PropertyImmutableError:
    """The error for re-adding a property with another value."""
    return PropertyImmutableError(
        f"property {key!r} of run {run_id!r} is already {current!r}; "
        f"properties cannot be changed (tried {wanted!r}); use a tag for mutable values",
        key=key,
    )


def status_write(
    run_id: str, status: str, at: float, error: dict[str, Any] | None = None
) -> StatusWrite:
    """How the store applies a move to ``status`` at time ``at``: from which statuses, with
    which fields (a start time when running or finished, an end time when finished)."""
    st.check_status_name(status)
    fields: dict[str, Any] = {}
    if status == st.RUNNING or st.is_terminal(status):
        fields["start_time"] = at  # kept by the store when the run started before
    if st.is_terminal(status):
        fields["end_time"] = at
    if error is not None:
        fields["error"] = error
    expected = (st.NOT_STARTED,) if status == st.NOT_STARTED else st.ACTIVE_STATUSES
    return StatusWrite(run_id, expected, status, fields)


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
        ``submitted_by`` (default: this process's user)."""
        experiment = self.store.get_experiment(experiment_id)
        if parent_run_id is not None:
            self.store.get_run(parent_run_id)
        create = new_run(
            experiment_id, experiment.name, status, run_id=run_id, parent_run_id=parent_run_id,
            display_name=display_name, description=description, run_type=run_type,
            target=target, tags=tags, properties=properties, run_definition=run_definition,
            submitted_by=submitted_by,
        )  # fmt: skip
        extra: dict[str, Any] = {"start_time": create.start_time} if create.start_time else {}
        if create.run_definition:
            extra["run_definition"] = create.run_definition
        return self.store.create_run(
            run_id=create.run_id,
            experiment_id=experiment_id,
            status=status,
            created_time=create.created_time,
            parent_run_id=parent_run_id,
            display_name=display_name,
            description=description,
            run_type=run_type,
            target=target,
            submitted_by=create.submitted_by,
            tags=create.tags,
            properties=create.properties,
            **extra,
        )

    def get_run(self, run_id: str) -> RunInfo:
        """The run with this id; a running run whose heartbeat stopped shows NotResponding."""
        return self._present(self.store.get_run(run_id))

    def _present(self, run: RunInfo) -> RunInfo:
        beat = run.heartbeat_time
        if (
            run.status == st.RUNNING
            and beat is not None
            and time.time() - beat > self.heartbeat_timeout
        ):
            return replace(run, status=st.NOT_RESPONDING)
        return run

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
        allowed = write.expected
        if expected is not None:
            wanted = {st.check_status_name(name) for name in expected}
            allowed = tuple(s for s in write.expected if s in wanted)
        updated = self.store.compare_and_set_status(run_id, allowed, status, **write.fields)
        if updated is None:  # one read, only on the refusing path
            current = self.store.get_run(run_id).status
            st.check_transition(run_id, current, status)
            raise InvalidTransitionError(
                f"run {run_id!r} is {current}; it can become {status} only from "
                f"{', '.join(allowed) or 'no status'}",
                run_id=run_id,
                status=current,
                requested=status,
            )
        return updated

    def heartbeat(self, run_id: str) -> None:
        """Record that the run's process is alive."""
        self.store.update_run(run_id, heartbeat_time=time.time())

    def update_run(self, run_id: str, **fields: Any) -> RunInfo:
        """Change ``display_name``, ``description``, ``run_definition`` or ``target``."""
        unknown = set(fields) - set(_UPDATABLE)
        if unknown:
            raise ValidationError(
                f"cannot update run field(s) {sorted(unknown)}; updatable: {', '.join(_UPDATABLE)}"
            )
        return self.store.update_run(run_id, **fields)

    def set_run_tags(self, run_id: str, tags: object) -> None:
        """Insert or overwrite run tags (a tag may have the value ``None``)."""
        self.store.set_run_tags(run_id, check_tags(tags))

    def remove_run_tags(self, run_id: str, keys: Sequence[str]) -> None:
        """Remove run tags; keys that are not there are ignored."""
        if isinstance(keys, str):
            keys = [keys]
        self.store.remove_run_tags(run_id, list(keys))

    def add_run_properties(self, run_id: str, properties: object) -> None:
        """Add properties; re-adding a key with another value raises ``PropertyImmutableError``."""
        checked = check_properties(properties)
        existing = self.store.get_run(run_id).properties
        for key, value in checked.items():
            if key in existing and existing[key] != value:
                raise property_conflict(run_id, key, existing[key], value)
        new = {k: v for k, v in checked.items() if k not in existing}
        if new:
            self.store.add_run_properties(run_id, new)

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
    ) -> list[RunInfo]:
        """Runs matching every filter, newest first.

        ``with_definition=False`` leaves each run's ``run_definition`` out (``None``): listings
        rarely need it and it is the biggest part of a run.
        """
        statuses = _statuses(status)
        query = RunQuery(
            experiment_id=experiment_id,
            parent_run_id=parent_run_id,
            root_run_id=root_run_id,
            run_type=run_type,
            statuses=_stored_statuses(statuses),
            tags=check_filter("tag", tags),
            properties=check_filter("property", properties),
            include_children=include_children,
            limit=limit,
            offset=offset,
            with_definition=with_definition,
        )
        runs = [self._present(r) for r in self.store.search_runs(query)]
        if statuses is not None:
            runs = [r for r in runs if r.status in statuses]
        return runs

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
        run = self.store.get_run(run_id)
        if not recursive:
            return self.search_runs(
                parent_run_id=run_id,
                tags=tags,
                properties=properties,
                run_type=run_type,
                status=status,
                include_children=True,
            )
        below = self.search_runs(
            root_run_id=run.root_run_id or run_id,
            tags=tags,
            properties=properties,
            run_type=run_type,
            status=status,
            include_children=True,
        )
        if run.root_run_id is None:
            return below
        return [r for r in below if _descends_from(r, run_id, self.store)]

    def delete_run(self, run_id: str) -> None:
        """Delete a run with its children, metrics and files."""
        self.store.get_run(run_id)
        self.store.delete_run(run_id)


def _statuses(status: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if status is None:
        return None
    wanted = (status,) if isinstance(status, str) else tuple(status)
    for name in wanted:
        st.check_status_name(name)
    return wanted


def _stored_statuses(wanted: tuple[str, ...] | None) -> tuple[str, ...] | None:
    # NotResponding is derived from a stale heartbeat of a Running run: query Running for it.
    if wanted is None:
        return None
    stored = set(wanted)
    if st.NOT_RESPONDING in stored:
        stored.add(st.RUNNING)
    return tuple(sorted(stored))


def _descends_from(run: RunInfo, ancestor_id: str, store: TrackingStore) -> bool:
    parent = run.parent_run_id
    while parent is not None:
        if parent == ancestor_id:
            return True
        parent = store.get_run(parent).parent_run_id
    return False
