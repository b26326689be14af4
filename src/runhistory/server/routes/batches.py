"""Run changes and metrics of many runs in one request: the remote client's write-behind.

``POST /changes/batches`` takes, in order, batches of two kinds: batches of run changes
(creations, tag, property and status changes with the metric points logged among them, see
:mod:`runhistory.client.change_wire`) and metric batches as ``/metrics/batches`` takes them.
Each batch carries an id and is stored once: a retried request skips what it stored before.
A batch of run changes is stored in one transaction; if that is refused, run by run, and a
refused run's changes one by one, so one bad change costs nothing else. A request of run
changes only is stored together with those of concurrent requests, in one transaction (see
:mod:`runhistory.server.change_groups`). The answer holds each batch's ``stored`` and the
``errors`` of what was refused (each naming its run).

A run creation may name its environment by id instead of carrying it (see
:mod:`runhistory.client.change_wire`): ids this server process knows to be stored are taken
as they are; others are looked up in the store, and if one is not stored the request is
refused as a whole before anything is stored (409, :class:`~runhistory.errors.
UnknownEnvironmentError`): the client sends it again with the environment.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from runhistory.client.change_wire import (
    ENVIRONMENT_IDS,
    FEATURE,
    count_changes,
    decode_changes,
    named_environments,
)
from runhistory.errors import RunhistoryError, UnknownEnvironmentError, ValidationError
from runhistory.server.answers import BatchesAnswer
from runhistory.server.body import WireRoute, read_body, too_large
from runhistory.server.change_groups import ChangeGroups
from runhistory.server.config import ServerSettings
from runhistory.server.operations import count_points
from runhistory.server.responses import JsonResponse
from runhistory.server.routes.metrics import (
    _BATCHES_BODY,
    _WRITES_SCHEMA,
    _body_doc,
    _decode_batch,
    _object,
    _parse,
    _store_one,
)
from runhistory.tracking.entities import RunChanges
from runhistory.tracking.service import TrackingService

router = APIRouter(route_class=WireRoute, tags=["runs"])
__all__ = ["ENVIRONMENT_IDS", "FEATURE", "router"]
HINT = "send fewer runs or metric points per request"
_ENTRIES = {"type": "array", "items": {"type": "object", "required": ["run_id"]}}
_CHANGES = {
    "type": "object",
    "description": "run changes, applied in this order: creates, updates, tags, properties, "
    "metrics, statuses",
    "properties": {
        "creates": {**_ENTRIES, "description": "runs to create: run_id, experiment_id, "
                    "status, created_time and optional fields as POST /runs takes them"},
        "updates": {**_ENTRIES, "description": "{run_id, fields}: run fields overwritten"},
        "tags": {**_ENTRIES, "description": "{run_id, set, remove}"},
        "properties": {**_ENTRIES, "description": "{run_id, properties} (add-only)"},
        "metrics": {"type": "object", "additionalProperties": _WRITES_SCHEMA,
                    "description": "{run id: metric writes}"},
        "statuses": {**_ENTRIES, "description": "{run_id, status, time, error}"},
    },
}  # fmt: skip
_BODY = {
    "type": "object",
    "required": ["batches"],
    "properties": {
        "batches": {
            "type": "array",
            "items": {
                "oneOf": [
                    {"type": "object", "required": ["batch_id", "changes"],
                     "properties": {"batch_id": {"type": "string"}, "changes": _CHANGES}},
                    _BATCHES_BODY["properties"]["batches"]["items"],  # type: ignore[index]
                ]
            },
        }
    },
}  # fmt: skip


@router.post("/changes/batches", openapi_extra=_body_doc(_BODY), response_model=BatchesAnswer)
async def write_batches(request: Request) -> Any:
    """Store batches of run changes and metric batches of many runs, in order, each once.

    Answers batch by batch (``results``, in order): ``stored`` (false for a retried batch
    or one refused whole) and the ``errors`` of what was refused, each with its
    ``fields.run_id``. A run created by a server with ``--auth`` is submitted by the
    token's name.
    """
    settings: ServerSettings = request.app.state.settings
    raw = await read_body(request, settings.max_metric_bytes, HINT)
    user = getattr(request.state, "token_name", None)
    return JsonResponse({"results": await store_request(request.app.state, settings, raw, user)})


async def store_request(
    state: Any, settings: ServerSettings, raw: bytes, user: str | None
) -> list[dict[str, Any]]:
    """Store a request's batches (its whole, decompressed body ``raw``) for the token's name
    ``user``; the answer's ``results``.

    Args:
        state: the application's state (its services and its change groups).

    Raises:
        ValidationError: the body is not a request of batches (400) or is over a limit (413).
        StorageError: the store is unavailable (503); the request may be sent again.
    """
    batches = _object(_parse(raw), "batches").get("batches")
    if not isinstance(batches, list):
        raise ValidationError("'batches' must be a list of {batch_id, changes} or metric batches")
    named = named_environments(batches)
    if named:
        await _require_environments(state.services.tracking, named)
    if batches and all(isinstance(b, dict) and "changes" in b for b in batches):
        return await _store_grouped(state, settings, batches, user)
    # metric batches among them: stored in order, request by request
    service: TrackingService = state.services.tracking
    return await run_in_threadpool(_store, service, settings, batches, user)


async def _require_environments(service: TrackingService, named: set[str]) -> None:
    """Refuse the request unless every environment id it names is stored.

    Raises:
        UnknownEnvironmentError: an id is not stored (nothing of the request is).
    """
    ids = sorted(named)
    found = service.stored_environments(ids, look=False)  # known to this process: no I/O
    if len(found) < len(ids):
        found = await run_in_threadpool(service.stored_environments, ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise UnknownEnvironmentError(
            f"the environments {missing} named by id are not stored on this server; send "
            f"their runs again with the environments themselves (nothing of this request "
            f"was stored)",
            environment_ids=missing,
        )


async def _store_grouped(
    state: Any, settings: ServerSettings, batches: list[Any], user: str | None
) -> list[dict[str, Any]]:
    """Batches of run changes only: stored with those of concurrent requests (group commit)."""
    points = _check_points(settings, batches)
    results: list[dict[str, Any] | None] = []
    items: list[tuple[RunChanges, str]] = []
    for batch in batches:
        decoded = _decoded(batch, user)
        if isinstance(decoded, dict):
            results.append(decoded)
        else:
            results.append(None)
            items.append(decoded)
    errors = iter(await _groups(state).write(items))  # StorageError: 503, retried
    count_points(points)
    return [r if r is not None else _answer(True, next(errors)) for r in results]


def _groups(state: Any) -> ChangeGroups:
    found: ChangeGroups | None = getattr(state, "change_groups", None)
    if found is None:
        found = state.change_groups = ChangeGroups(state.services.tracking)
    return found


def _check_points(settings: ServerSettings, batches: list[Any]) -> int:
    points = sum(_points(b) for b in batches)
    if points > settings.max_metric_points:
        raise too_large("a batch request", f"{points} points (not bytes)",
                        settings.max_metric_points, HINT)  # fmt: skip
    return points


def _store(
    service: TrackingService, settings: ServerSettings, batches: list[Any], user: str | None
) -> list[dict[str, Any]]:
    points = _check_points(settings, batches)
    results = []
    for batch in batches:
        if isinstance(batch, dict) and "changes" in batch:
            results.append(_store_changes(service, batch, user))
        else:
            result = _store_one(service, _decode_batch(batch))
            result.pop("exception", None)
            results.append(result)
    count_points(points)
    return results


def _points(batch: Any) -> int:
    try:
        if isinstance(batch, dict) and "changes" in batch:
            return count_changes(batch["changes"])[1]
        return sum(len(w["columns"][1]) for w in batch["writes"])
    except (TypeError, KeyError, IndexError, AttributeError):
        return 0  # not even a batch: refused on its own below


def _store_changes(
    service: TrackingService, data: dict[str, Any], user: str | None
) -> dict[str, Any]:
    decoded = _decoded(data, user)
    if isinstance(decoded, dict):
        return decoded
    errors = service.write_changes_apart(*decoded)  # StorageError: 503, retried
    return _answer(True, errors)


def _decoded(data: dict[str, Any], user: str | None) -> tuple[RunChanges, str] | dict[str, Any]:
    """A batch of run changes and its id, or the answer of one that cannot be read."""
    batch_id = data.get("batch_id")
    if not isinstance(batch_id, str) or not 0 < len(batch_id) <= 200:
        return _answer(False, [ValidationError("'batch_id' must be a string of 1-200 characters")])
    try:
        changes = decode_changes(data["changes"])
    except RunhistoryError as exc:
        return _answer(False, [exc])
    if user is not None:
        for create in changes.creates:
            create.submitted_by = user
    return changes, batch_id


def _answer(stored: bool, errors: list[RunhistoryError]) -> dict[str, Any]:
    return {"stored": stored, "errors": [e.to_dict() for e in errors]}
