"""Experiments: get-or-create, lookups, listing, archive/reactivate, delete, tags."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from runhistory.errors import ValidationError
from runhistory.server.answers import ExperimentPage
from runhistory.server.body import WireRoute
from runhistory.server.params import DEFAULT_LIMIT, Limit, Offset, PageToken
from runhistory.server.responses import JsonResponse, slice_page
from runhistory.server.routes import tracking
from runhistory.server.schemas import (
    ExperimentCreate,
    Reactivate,
    RunGroups,
    SavedViews,
    TagsPatch,
    ViewBody,
)
from runhistory.tracking.entities import ExperimentInfo, ExperimentSummary, SavedView
from runhistory.tracking.service import TrackingService

router = APIRouter(route_class=WireRoute, prefix="/experiments", tags=["experiments"])
Service = Depends(tracking)


@router.post("", response_model=ExperimentInfo)
def get_or_create(body: ExperimentCreate, service: TrackingService = Service) -> Any:
    """The active experiment with this name, created if there is none."""
    return JsonResponse(service.get_or_create_experiment(body.name))


@router.get("", response_model=ExperimentPage)
def list_experiments(
    name: str | None = None,
    view_type: str = "ActiveOnly",
    tag: list[str] | None = Query(None),
    with_run_count: bool = True,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
    page_token: PageToken = None,
    service: TrackingService = Service,
) -> Any:
    """Experiments filtered by name, view type and tags (``tag=k`` or ``tag=k=v``), oldest
    first.

    Continue with ``page_token=<next_page_token>`` (keyset paging by created time, name and
    id); a token that was altered or belongs to other filters is refused with 400. ``offset``
    is kept for older clients.
    """
    filters: dict[str, Any] = {"name": name, "view_type": view_type, "tags": parse_pairs(tag)}
    if offset and page_token is not None:
        raise ValidationError("give page_token or offset, not both", parameter="page_token")
    if offset:
        result = slice_page(service.list_experiments(**filters), offset, limit)
    else:
        found = service.list_experiments_page(**filters, page_size=limit, page_token=page_token)
        more = found.next_page_token is not None
        result = {
            "items": found.items, "next_page_token": found.next_page_token,
            # For clients that page by offset: the page holds the first matches, in order.
            "next_offset": len(found.items) if page_token is None and more and found.items
            else None,
        }  # fmt: skip
    if with_run_count:
        result["items"] = [_with_count(service, e) for e in result["items"]]
    return JsonResponse(result)


def _with_count(service: TrackingService, info: ExperimentInfo) -> dict[str, Any]:
    data = dict(info.__dict__)
    data["run_count"] = service.store.count_runs(info.experiment_id)
    return data


def parse_pairs(values: list[str] | None) -> dict[str, str | None] | None:
    """``["k", "k2=v"]`` as ``{"k": None, "k2": "v"}`` (None when empty)."""
    if not values:
        return None
    pairs: dict[str, str | None] = {}
    for value in values:
        key, sep, wanted = value.partition("=")
        pairs[key] = wanted if sep else None
    return pairs


@router.get("/by-name/{name}", response_model=ExperimentInfo)
def get_by_name(name: str, archived: bool = False, service: TrackingService = Service) -> Any:
    """The active (or, with ``archived=true``, archived) experiment with this name."""
    return JsonResponse(service.get_experiment_by_name(name, archived=archived))


@router.get("/{experiment_id}", response_model=ExperimentInfo)
def get_experiment(experiment_id: str, service: TrackingService = Service) -> Any:
    """One experiment."""
    return JsonResponse(service.get_experiment(experiment_id))


@router.get("/{experiment_id}/summary", response_model=ExperimentSummary)
def summarize(experiment_id: str, service: TrackingService = Service) -> Any:
    """The number of runs and the distinct tag keys, property keys and metric names of the
    experiment's runs, each with its number of runs."""
    return JsonResponse(service.summarize_experiment(experiment_id))


@router.get("/{experiment_id}/run-groups", response_model=RunGroups)
def group_runs(
    experiment_id: str,
    by: str = Query(max_length=600),
    metric: str | None = Query(None, max_length=255),
    status: list[str] | None = Query(None),
    tag: list[str] | None = Query(None),
    property: list[str] | None = Query(None),
    include_children: bool = False,
    where: list[str] | None = Query(None, max_length=1000),
    q: str | None = Query(None, max_length=1000),
    service: TrackingService = Service,
) -> Any:
    """The experiment's runs (filtered as ``GET /runs``) grouped by ``by`` (``property:<key>``
    or ``tag:<key>``): each value (null: runs without it), its number of runs and the mean of
    ``metric``'s last values; largest groups first, at most 1,000."""
    found = service.group_runs(
        experiment_id, by, metric, tags=parse_pairs(tag), properties=parse_pairs(property),
        status=status or None, include_children=include_children, where=where, text=q,
    )  # fmt: skip
    return JsonResponse({"items": found})


@router.get("/{experiment_id}/views", response_model=SavedViews)
def list_views(experiment_id: str, service: TrackingService = Service) -> Any:
    """The saved views of the experiment's runs table (``state``: the studio's URL query)."""
    return JsonResponse({"items": service.list_views(experiment_id)})


@router.put("/{experiment_id}/views/{name}", response_model=SavedView)
def save_view(
    experiment_id: str, name: str, body: ViewBody, service: TrackingService = Service
) -> Any:
    """Save the view ``name`` (replacing one of that name)."""
    return JsonResponse(service.save_view(experiment_id, name, body.state))


@router.delete("/{experiment_id}/views/{name}", status_code=204)
def delete_view(experiment_id: str, name: str, service: TrackingService = Service) -> Response:
    """Delete a saved view."""
    service.delete_view(experiment_id, name)
    return Response(status_code=204)


@router.post("/{experiment_id}/archive", response_model=ExperimentInfo)
def archive(experiment_id: str, service: TrackingService = Service) -> Any:
    """Hide the experiment from default listings."""
    return JsonResponse(service.archive_experiment(experiment_id))


@router.post("/{experiment_id}/reactivate", response_model=ExperimentInfo)
def reactivate(
    experiment_id: str, body: Reactivate | None = None, service: TrackingService = Service
) -> Any:
    """Make an archived experiment active again."""
    new_name = body.new_name if body is not None else None
    return JsonResponse(service.reactivate_experiment(experiment_id, new_name))


@router.delete("/{experiment_id}", status_code=204)
def delete(experiment_id: str, service: TrackingService = Service) -> Response:
    """Delete the experiment with all its runs."""
    service.delete_experiment(experiment_id)
    return Response(status_code=204)


@router.patch("/{experiment_id}/tags", status_code=204)
def patch_tags(experiment_id: str, body: TagsPatch, service: TrackingService = Service) -> Response:
    """Set and/or remove experiment tags."""
    if "set" in body.model_fields_set:
        service.set_experiment_tags(experiment_id, body.set)
    if "remove" in body.model_fields_set:
        service.remove_experiment_tags(experiment_id, body.remove)
    return Response(status_code=204)
