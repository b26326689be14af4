"""Metrics: batched, idempotent, optionally gzip-compressed writes; reads; chart series."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from runhistory.client.wire import decode_write, loads
from runhistory.errors import RunhistoryError, StorageError, ValidationError
from runhistory.server.answers import (
    BatchesAnswer,
    LastValues,
    MetricHistory,
    MetricInfos,
    Metrics,
    SeriesAnswer,
    StoredAnswer,
)  # fmt: skip
from runhistory.server.body import WireRoute, read_body, too_large
from runhistory.server.config import ServerSettings
from runhistory.server.operations import count_points
from runhistory.server.params import PageToken, Step
from runhistory.server.responses import JsonResponse
from runhistory.server.routes import tracking
from runhistory.server.schemas import LastValuesRequest, SeriesRequest
from runhistory.tracking.entities import MetricWrite
from runhistory.tracking.service import TrackingService

router = APIRouter(route_class=WireRoute, tags=["metrics"])
Service = Depends(tracking)
_HINT = "send fewer metric points per request"
_WRITES_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["name", "kind", "columns"],
        "properties": {
            "name": {"type": "string"},
            "kind": {"type": "string"},
            "description": {"type": "string"},
            "columns": {
                "type": "array",
                "description": "[steps, vtypes, numbers, texts, times], five lists of equal "
                "length; an infinite number is the string 'inf' or '-inf'",
                "items": {"type": "array", "items": {}},
                "minItems": 5,
                "maxItems": 5,
            },
        },
    },
}
_ONE_RUN_BODY = {
    "type": "object",
    "required": ["writes"],
    "properties": {"batch_id": {"type": "string"}, "writes": _WRITES_SCHEMA},
}
_BATCHES_BODY = {
    "type": "object",
    "required": ["batches"],
    "properties": {
        "batches": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["run_id", "writes"],
                "properties": {
                    "run_id": {"type": "string"},
                    "batch_id": {"type": "string"},
                    "writes": _WRITES_SCHEMA,
                },
            },
        }
    },
}


def _body_doc(schema: dict[str, Any]) -> dict[str, Any]:
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


@router.post(
    "/runs/{run_id}/metrics", openapi_extra=_body_doc(_ONE_RUN_BODY), response_model=StoredAnswer
)
async def log_metrics(run_id: str, request: Request) -> Any:
    """Store points of several metrics of one run (``Content-Encoding: gzip`` accepted)."""
    settings: ServerSettings = request.app.state.settings
    raw = await read_body(request, settings.max_metric_bytes, _HINT)
    service: TrackingService = request.app.state.services.tracking
    result = await run_in_threadpool(_parse_and_store_one, service, settings, run_id, raw)
    exception = result.pop("exception")
    if exception is not None and not result["stored"]:
        raise exception
    return JsonResponse(result)


@router.post(
    "/metrics/batches", openapi_extra=_body_doc(_BATCHES_BODY), response_model=BatchesAnswer
)
async def log_batches(request: Request) -> Any:
    """Store several batches (of several runs) in order; each batch id is stored once.

    Answers batch by batch (``results``, in order): ``stored`` and the ``errors`` of what was
    refused. A refused batch, or a batch that is not even a batch, costs no other batch.
    """
    settings: ServerSettings = request.app.state.settings
    raw = await read_body(request, settings.max_metric_bytes, _HINT)
    service: TrackingService = request.app.state.services.tracking
    results = await run_in_threadpool(_parse_and_store_many, service, settings, raw)
    for result in results:
        result.pop("exception", None)
    return JsonResponse({"results": results})


def _parse_and_store_one(
    service: TrackingService, settings: ServerSettings, run_id: str, raw: bytes
) -> dict[str, Any]:
    """Parse and store one run's batch (in the thread pool: a body may be hundreds of MB)."""
    data = _object(_parse(raw), "writes")
    batch = {"run_id": run_id, "batch_id": data.get("batch_id"), "writes": data.get("writes")}
    return _store_batches(service, settings, [batch])[0]


def _parse_and_store_many(
    service: TrackingService, settings: ServerSettings, raw: bytes
) -> list[dict[str, Any]]:
    """Parse and store a request's batches (in the thread pool, as :func:`_parse_and_store_one`)."""
    batches = _object(_parse(raw), "batches").get("batches")
    if not isinstance(batches, list):
        raise ValidationError("'batches' must be a list of {run_id, batch_id, writes}")
    return _store_batches(service, settings, batches)


def _parse(raw: bytes) -> Any:
    try:
        return loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"the request body is not valid JSON: {exc}") from None


def _object(data: Any, key: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError(f"the body must be a JSON object with {key!r}")
    return data


def _store_batches(
    service: TrackingService, settings: ServerSettings, batches: list[Any]
) -> list[dict[str, Any]]:
    """Store each batch on its own: a batch that is refused (or cannot even be read) costs no
    other batch, and within a batch a refused write costs no other write."""
    decoded = [_decode_batch(b) for b in batches]
    points = sum(len(w.points) for batch in decoded for w in batch.writes)
    if points > settings.max_metric_points:
        raise too_large("a metric request", f"{points} points (not bytes)",
                        settings.max_metric_points, _HINT)  # fmt: skip
    results = [_store_one(service, batch) for batch in decoded]
    count_points(points)
    return results


class _Batch:
    """A batch of the request: its run, id, the writes that could be read, and the errors of
    those that could not (or of the batch itself)."""

    def __init__(self, run_id: str | None, batch_id: str | None) -> None:
        self.run_id = run_id
        self.batch_id = batch_id
        self.writes: list[MetricWrite] = []
        self.errors: list[RunhistoryError] = []


def _decode_batch(data: Any) -> _Batch:
    if not isinstance(data, dict) or not isinstance(data.get("run_id"), str):
        batch = _Batch(None, None)
        problem = "each batch must be an object with 'run_id' and 'writes'"
        batch.errors.append(ValidationError(problem))
        return batch
    batch_id = data.get("batch_id")
    batch = _Batch(data["run_id"], batch_id if isinstance(batch_id, str) else None)
    writes = data.get("writes")
    if batch_id is not None and (not isinstance(batch_id, str) or not 0 < len(batch_id) <= 200):
        batch.errors.append(ValidationError("'batch_id' must be a string of 1-200 characters"))
    elif not isinstance(writes, list):
        batch.errors.append(ValidationError("'writes' must be a list of {name, kind, columns}"))
    else:
        for item in writes:
            try:
                batch.writes.append(decode_write(item))
            except RunhistoryError as exc:
                batch.errors.append(exc)
    return batch


def _store_one(service: TrackingService, batch: _Batch) -> dict[str, Any]:
    stored, errors = False, list(batch.errors)
    if batch.run_id is not None and batch.writes:
        try:
            stored = service.log_metrics(batch.run_id, batch.writes, batch_id=batch.batch_id)
        except StorageError:
            raise  # the whole request fails with 503: the client retries it, batch ids dedupe
        except ValidationError as exc:
            if len(batch.writes) == 1:
                errors.append(exc)
            else:
                stored, more = _store_each(service, batch)
                errors.extend(more)
        except RunhistoryError as exc:
            errors.append(exc)
    first = errors[0] if errors else None
    return {"stored": stored, "errors": [e.to_dict() for e in errors], "exception": first}


def _store_each(service: TrackingService, batch: _Batch) -> tuple[bool, list[RunhistoryError]]:
    # Keep the good writes of a batch with a bad one, as the embedded writer does.
    assert batch.run_id is not None
    stored, errors = False, []
    for index, write in enumerate(batch.writes):
        sub_id = None if batch.batch_id is None else f"{batch.batch_id}#{index}"
        try:
            stored = service.log_metrics(batch.run_id, [write], batch_id=sub_id) or stored
        except StorageError:
            raise
        except RunhistoryError as exc:
            errors.append(exc)
    return stored, errors


@router.get("/runs/{run_id}/metrics", response_model=Metrics)
def get_metrics(
    run_id: str,
    name: str | None = None,
    recursive: bool = False,
    run_type: str | None = None,
    service: TrackingService = Service,
) -> Any:
    """Metrics in the original SDK's shapes (keyed by run id when ``recursive``)."""
    result = service.get_metrics(run_id, name=name, recursive=recursive, run_type=run_type)
    return JsonResponse(result)


@router.get("/runs/{run_id}/metrics/info", response_model=MetricInfos)
def get_metric_infos(
    run_id: str,
    limit: Annotated[int | None, Query(ge=1, le=10_000, description="names per page")] = None,
    page_token: PageToken = None,
    search: Annotated[str | None, Query(max_length=255)] = None,
    service: TrackingService = Service,
) -> Any:
    """The metrics of the run with kind, count and last value, ordered by name: every one, or
    with ``limit`` (or ``search``, a part of the name in any case) a page of them continued
    with ``page_token=<next_page_token>``."""
    if limit is None and page_token is None and search is None:
        return JsonResponse({"items": service.get_metric_infos(run_id), "next_page_token": None})
    found = service.get_metric_infos_page(
        run_id, page_size=limit or 1000, page_token=page_token, search=search
    )
    return JsonResponse({"items": found.items, "next_page_token": found.next_page_token})


@router.get("/runs/{run_id}/metrics/history", response_model=MetricHistory)
def get_history(
    run_id: str,
    name: str = Query(...),
    min_step: Step = None,
    max_step: Step = None,
    service: TrackingService = Service,
) -> Any:
    """Every point of one metric as columns ``seqs``, ``steps`` (null without steps),
    ``values`` and ``times``, in logging order."""
    return JsonResponse(service.get_metric_history(run_id, name, min_step=min_step,
                                                   max_step=max_step))  # fmt: skip


@router.post("/metrics/series", response_model=SeriesAnswer)
def get_series(body: SeriesRequest, service: TrackingService = Service) -> Any:
    """Series for charts: at most ``max_points`` points each (min and max of every bucket),
    by step or, with ``x: "time"``, by logging time."""
    found = service.get_metric_series(
        body.run_ids, body.names, max_points=body.max_points, min_step=body.min_step,
        max_step=body.max_step, x=body.x,
    )  # fmt: skip
    return JsonResponse({"series": found})


@router.post("/metrics/last", response_model=LastValues)
def get_last(body: LastValuesRequest, service: TrackingService = Service) -> Any:
    """The last value of each (scalar or list) metric of several runs (with ``value``
    ``min`` or ``max``: the smallest or largest numeric value logged)."""
    found = service.store.get_last_metric_values(body.run_ids, body.names, body.value)
    return JsonResponse(found)
