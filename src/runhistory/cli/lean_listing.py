"""``run list`` without the SDK, the store, SQLAlchemy or the HTTP client library.

Importing them costs more than listing runs. On an embedded SQLite workspace, a listing that
the read-only :class:`~runhistory.store.sql.lean_reader.LeanReader` can answer is read with
it, with the same order, filters and NotResponding rule as the service. Against a server, a
one-page listing (``--last N`` or the default) is asked for with the standard library's HTTP
client (:mod:`runhistory.cli.lean_http`), with the same requests as the remote backend.
Anything else (a PostgreSQL workspace, a workspace not created yet, a schema to upgrade, tag
or property filters, ``--all`` against a server, an experiment name that does not resolve to
one experiment, a server that does not answer ``200 OK``) returns ``None`` and the command
takes the normal path, whose messages stay the only ones.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from runhistory.store.sql.lean_reader import LeanReader
    from runhistory.tracking.records import ExperimentInfo, RunInfo


class ExperimentSource(Protocol):
    """Where :func:`pick_experiments` finds experiments (the lean reader, a server)."""

    def list_experiments(self, view_type: str) -> list[ExperimentInfo]:
        """The experiments of ``view_type`` (ActiveOnly, ArchivedOnly, All), oldest first."""


def lean_runs(
    experiment_name: str | None,
    status: str | None,
    include_children: bool,
    created_after: float | None,
    created_before: float | None,
    sizes: Sequence[int],
    one_page: bool = False,
) -> Iterator[RunInfo] | None:
    """The runs ``run list`` shows, newest first, as they are shown (a stale Running run is
    NotResponding), read lazily in pages of ``sizes``; ``None`` when the lean path cannot
    answer (see the module's description).

    ``one_page``: the caller takes at most ``sizes[0]`` runs (``--last N``); only such a
    listing is read from a server, all of it before this returns.
    """
    from runhistory.cli.workspace import chosen_workspace
    from runhistory.client.location import resolve_location
    from runhistory.errors import ConfigurationError

    chosen = chosen_workspace()
    if chosen is None:
        return None
    uri, config_token = chosen
    try:
        location = resolve_location(uri)
    except ConfigurationError:
        return None
    if location.kind == "remote":
        if not one_page:
            return None
        from runhistory import settings
        from runhistory.cli.lean_http import http_runs

        token = settings.get("RUNHISTORY_TRACKING_TOKEN") or config_token  # as the SDK's
        found = http_runs(
            location.tracking_uri, token, experiment_name, status, include_children,
            created_after, created_before, sizes[0],
        )  # fmt: skip
        return None if found is None else iter(found)
    database = location.database_url
    if database is None or not database.startswith("sqlite:///"):
        return None
    from runhistory.store.sql.lean_reader import LeanReader

    reader = LeanReader.open(database.removeprefix("sqlite:///"))
    if reader is None:
        return None
    experiments = pick_experiments(reader, experiment_name)
    if experiments is None:
        reader.close()
        return None
    return _listing(
        reader, experiments, status, include_children, created_after, created_before, sizes
    )


def pick_experiments(
    source: ExperimentSource, name_or_id: str | None
) -> list[ExperimentInfo] | None:
    """The experiments to list: every active one, or the one named (as the CLI finds it:
    by id, else the active one of that name, else the only archived one); ``None`` when
    the name matches none, or several archived ones (the normal path says so)."""
    if name_or_id is None:
        return source.list_experiments("ActiveOnly")
    candidates = source.list_experiments("All")
    by_id = [e for e in candidates if e.experiment_id == name_or_id]
    if by_id:
        return by_id[:1]
    named = [e for e in candidates if e.name == name_or_id]
    active = [e for e in named if e.archived_time is None]
    if active:
        return active[:1]
    return named if len(named) == 1 else None


def _listing(
    reader: LeanReader,
    experiments: list[ExperimentInfo],
    status: str | None,
    include_children: bool,
    created_after: float | None,
    created_before: float | None,
    sizes: Sequence[int],
) -> Iterator[RunInfo]:
    from runhistory import settings
    from runhistory.tracking.liveness import present, stored_statuses
    from runhistory.tracking.records import RunQuery
    from runhistory.tracking.status import check_status_name

    wanted = None if status is None else (check_status_name(status),)
    timeout = float(settings.get("RUNHISTORY_HEARTBEAT_TIMEOUT"))

    def runs_of(experiment: ExperimentInfo) -> Iterator[RunInfo]:
        query = RunQuery(
            experiment_id=experiment.experiment_id, statuses=stored_statuses(wanted),
            include_children=include_children, created_after=created_after,
            created_before=created_before, with_definition=False,
        )  # fmt: skip
        for info in reader.iterate_runs(query, sizes):
            shown = present(info, timeout)
            if wanted is None or shown.status in wanted:
                yield shown

    listings = [runs_of(e) for e in experiments]
    try:
        if len(listings) == 1:
            yield from listings[0]
        else:
            yield from heapq.merge(
                *listings, key=lambda r: (r.created_time, r.number, r.run_id), reverse=True
            )
    finally:
        reader.close()
