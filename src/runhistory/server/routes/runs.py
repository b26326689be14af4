"""Runs: create, read, query, lifecycle, heartbeat, updates, tags, properties, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from runhistory.errors import ValidationError
from runhistory.server.answers import Count, RunPage
from runhistory.server.body import WireRoute
from runhistory.server.params import DEFAULT_LIMIT, MAX_LIMIT, Limit, Offset, PageToken
from runhistory.server.responses import JsonResponse, page
from runhistory.server.routes import tracking
from runhistory.server.routes.experiments import parse_pairs
from runhistory.server.schemas import RunCreate, RunUpdate, StatusChange, TagsPatch
from runhistory.tracking.entities import RunInfo, RunsPage
from runhistory.tracking.service import TrackingService

router = APIRouter(route_class=WireRoute, prefix="/runs", tags=["runs"])
CreatedAfter = Annotated[
    float | None, Query(description="only runs created at or after this time (epoch seconds)")
]
CreatedBefore = Annotated[
    float | None, Query(description="only runs created before this time (epoch seconds)")
]
Service = Depends(tracking)


@router.post("", response_model=RunInfo)
def create_run(body: RunCreate, request: Request, service: TrackingService = Service) -> Any:
    """Create a run in ``status`` (default NotStarted); with ``--auth`` it is submitted by the
    token's name, otherwise by ``submitted_by`` as the client sent it."""
    fields = body.model_dump()
    fields["submitted_by"] = getattr(request.state, "token_name", None) or body.submitted_by
    return JsonResponse(service.create_run(**fields))


@router.get("", response_model=RunPage)
def search_runs(
    experiment_id: str | None = None,
    run_type: str | None = None,
    status: list[str] | None = Query(None),
    tag: list[str] | None = Query(None),
    property: list[str] | None = Query(None),
    include_children: bool = False,
    parent_run_id: str | None = None,
    root_run_id: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
    page_token: PageToken = None,
    with_definition: bool = True,
    created_after: CreatedAfter = None,
    created_before: CreatedBefore = None,
    where: list[str] | None = Query(None, max_length=1000),
    q: str | None = Query(None, max_length=1000),
    sort: str | None = Query(None, max_length=600),
    with_child_counts: bool = False,
    service: TrackingService = Service,
) -> Any:
    """Runs matching every filter, newest first (``tag=k`` or ``tag=k=v``, repeatable);
    ``created_after`` (inclusive) and ``created_before`` (exclusive) bound the creation time
    in seconds since the epoch (an index range, fast on any number of runs).

    The studio's runs table adds: ``where=property:lr<0.1`` (or ``tag:…``, ``metric:<name>``
    on its last value; ops ``< <= > >= = !=``, repeatable), ``q`` (free text: every word in
    the name, id, number, status, tags or properties), ``sort`` (``created``, ``number``,
    ``name``, ``status``, ``start``, ``duration``, ``property:<key>``, ``tag:<key>``,
    ``metric:<name>``; a leading ``-`` descends) and ``with_child_counts=true`` (the page's
    ``child_counts``: run id → number of direct children). Every order is keyset-paged.

    Continue with ``page_token=<next_page_token>`` (keyset paging: stable while runs are
    added, as fast on the last page as on the first); a token that was altered or belongs to
    other filters is refused with 400. ``offset`` is kept for older clients.

    ``with_definition=false`` leaves out each run's ``run_definition`` (``null``), the
    biggest part of a run; ``GET /runs/{run_id}`` always has it.
    """
    filters: dict[str, Any] = dict(
        experiment_id=experiment_id, run_type=run_type, tags=parse_pairs(tag),
        properties=parse_pairs(property), status=status or None,
        include_children=include_children, parent_run_id=parent_run_id,
        root_run_id=root_run_id, with_definition=with_definition,
        created_after=created_after, created_before=created_before,
    )  # fmt: skip
    if offset and page_token is not None:
        raise ValidationError("give page_token or offset, not both", parameter="page_token")
    table: dict[str, Any] = {"where": where, "text": q, "sort": sort}
    if offset:
        if any(table.values()):
            raise ValidationError("where, q and sort page with page_token, not offset")
        found = service.search_runs(**filters, limit=limit + 1, offset=offset)
        return JsonResponse(page(found, offset, limit))
    found_page = service.search_runs_page(
        **filters, **table, page_size=limit, page_token=page_token
    )
    answer = _answer(found_page, first=page_token is None, limit=limit)
    if with_child_counts:
        answer["child_counts"] = service.count_children([r.run_id for r in found_page.items])
    return JsonResponse(answer)


def _answer(found: RunsPage, first: bool, limit: int) -> dict[str, Any]:
    more = found.next_page_token is not None
    return {
        "items": found.items,
        "next_offset": limit if first and more else None,  # for clients that page by offset
        "next_page_token": found.next_page_token,
    }


@router.get("/{run_id}", response_model=RunInfo)
def get_run(run_id: str, service: TrackingService = Service) -> Any:
    """One run (a running run with a stale heartbeat shows NotResponding)."""
    return JsonResponse(service.get_run(run_id))


@router.get("/{run_id}/children", response_model=RunPage)
def get_children(
    run_id: str,
    recursive: bool = False,
    tag: list[str] | None = Query(None),
    property: list[str] | None = Query(None),
    run_type: str | None = None,
    status: list[str] | None = Query(None),
    limit: Limit = MAX_LIMIT,
    page_token: PageToken = None,
    service: TrackingService = Service,
) -> Any:
    """Direct children of the run, or every descendant with ``recursive=true``, newest first,
    in pages continued with ``page_token``."""
    found = service.get_children_page(
        run_id, recursive=recursive, tags=parse_pairs(tag), properties=parse_pairs(property),
        run_type=run_type, status=status or None, page_size=limit, page_token=page_token,
    )  # fmt: skip
    return JsonResponse({"items": found.items, "next_offset": None,
                         "next_page_token": found.next_page_token})  # fmt: skip


count_router = APIRouter(route_class=WireRoute, tags=["runs"])


@count_router.get("/counts/runs", response_model=Count)
def count_runs(
    experiment_id: str | None = None,
    run_type: str | None = None,
    status: list[str] | None = Query(None),
    tag: list[str] | None = Query(None),
    property: list[str] | None = Query(None),
    include_children: bool = False,
    created_after: CreatedAfter = None,
    created_before: CreatedBefore = None,
    parent_run_id: str | None = None,
    where: list[str] | None = Query(None, max_length=1000),
    q: str | None = Query(None, max_length=1000),
    service: TrackingService = Service,
) -> Any:
    """How many runs ``GET /runs`` lists with these filters (one count; Running and
    NotResponding are counted together)."""
    found = service.count_matching_runs(
        experiment_id=experiment_id, run_type=run_type, tags=parse_pairs(tag),
        properties=parse_pairs(property), status=status or None,
        include_children=include_children, created_after=created_after,
        created_before=created_before, where=where, text=q, parent_run_id=parent_run_id,
    )  # fmt: skip
    return JsonResponse({"count": found})


@router.post("/{run_id}/status", response_model=RunInfo)
def set_status(run_id: str, body: StatusChange, service: TrackingService = Service) -> Any:
    """Move the run to another status; a finished run refuses with 409."""
    found = service.set_status(run_id, body.status, error=body.error, expected=body.expected)
    return JsonResponse(found)


@router.post("/{run_id}/heartbeat", status_code=204)
def heartbeat(run_id: str, service: TrackingService = Service) -> Response:
    """Record that the run's process is alive."""
    service.heartbeat(run_id)
    return Response(status_code=204)


@router.patch("/{run_id}", response_model=RunInfo)
def update_run(run_id: str, body: RunUpdate, service: TrackingService = Service) -> Any:
    """Change display name, description, run definition or target."""
    return JsonResponse(service.update_run(run_id, **body.model_dump(exclude_unset=True)))


@router.patch("/{run_id}/tags", status_code=204)
def patch_tags(run_id: str, body: TagsPatch, service: TrackingService = Service) -> Response:
    """Set and/or remove run tags."""
    if "set" in body.model_fields_set:
        service.set_run_tags(run_id, body.set)
    if "remove" in body.model_fields_set:
        service.remove_run_tags(run_id, body.remove)
    return Response(status_code=204)


@router.post("/{run_id}/properties", status_code=204)
def add_properties(
    run_id: str, body: dict[str, Any], service: TrackingService = Service
) -> Response:
    """Add properties; a key that already has another value is refused with 409."""
    service.add_run_properties(run_id, body)
    return Response(status_code=204)


@router.delete("/{run_id}", status_code=204)
def delete_run(run_id: str, service: TrackingService = Service) -> Response:
    """Delete the run with its children, metrics and files."""
    service.delete_run(run_id)
    return Response(status_code=204)
