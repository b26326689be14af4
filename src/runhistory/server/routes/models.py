"""Registered models: register (from a run or an uploaded zip), list, read, update, files."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from runhistory.artifacts.paths import validate_artifact_name
from runhistory.errors import NotFoundError, ValidationError
from runhistory.server.answers import ModelPage, binary
from runhistory.server.body import WireRoute, body_to_temp_file
from runhistory.server.params import DEFAULT_LIMIT, INT64_MAX, Limit, Offset, PageToken
from runhistory.server.ranges import stream_chunks
from runhistory.server.responses import JsonResponse, slice_page
from runhistory.server.routes import tracking
from runhistory.server.routes.experiments import parse_pairs
from runhistory.server.routes.files import _RAW_BODY
from runhistory.server.schemas import ModelRegister, ModelUpdate
from runhistory.server.zips import extract_zip, read_small_member
from runhistory.store.base import UNCHANGED
from runhistory.tracking.entities import ModelInfo
from runhistory.tracking.models import model_file_key
from runhistory.tracking.service import TrackingService
from runhistory.tracking.validation import check_model_name

router = APIRouter(route_class=WireRoute, prefix="/models", tags=["models"])
Service = Depends(tracking)
UPLOAD_METADATA = "metadata.json"
UPLOAD_FILES = "files/"
_METADATA_LIMIT = 1024 * 1024
_METADATA_KEYS = (
    "model_name", "tags", "properties", "model_framework", "model_framework_version",
    "description",
)  # fmt: skip


@router.post("", response_model=ModelInfo)
def register_model(body: ModelRegister, service: TrackingService = Service) -> Any:
    """Register a run file or folder as the next version of a model."""
    return JsonResponse(service.register_model(**body.model_dump()))


@router.post("/upload", openapi_extra=_RAW_BODY, response_model=ModelInfo)
async def register_upload(request: Request) -> Any:
    """Register uploaded files: a zip with ``metadata.json`` and the files under ``files/``."""
    service: TrackingService = request.app.state.services.tracking
    archive = await body_to_temp_file(request, ".zip")
    folder = tempfile.mkdtemp(prefix="runhistory-model-")
    try:
        return JsonResponse(await run_in_threadpool(_register_zip, service, archive, folder))
    finally:
        os.unlink(archive)
        shutil.rmtree(folder, ignore_errors=True)


def _register_zip(service: TrackingService, archive: str, folder: str) -> Any:
    metadata = _read_metadata(archive)
    relatives = extract_zip(archive, folder, UPLOAD_FILES)
    sources = [os.path.join(folder, *r.split("/")) for r in relatives]
    return service.register_local_model(
        check_model_name(metadata.get("model_name")), relatives, sources,
        **{k: metadata.get(k) for k in _METADATA_KEYS[1:]},
    )  # fmt: skip


def _read_metadata(archive: str) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(archive) as source:
            data = orjson.loads(read_small_member(source, UPLOAD_METADATA, _METADATA_LIMIT))
    except (zipfile.BadZipFile, KeyError, orjson.JSONDecodeError) as exc:
        raise ValidationError(
            f"a model upload is a zip with {UPLOAD_METADATA} and the files under "
            f"{UPLOAD_FILES}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise ValidationError(f"{UPLOAD_METADATA} must hold a JSON object")
    return data


@router.get("", response_model=ModelPage)
def list_models(
    name: str | None = None,
    run_id: str | None = None,
    latest: bool = False,
    tag: list[str] | None = Query(None),
    property: list[str] | None = Query(None),
    model_framework: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
    page_token: PageToken = None,
    service: TrackingService = Service,
) -> Any:
    """Registered model versions matching every filter, by name, newest version first.

    Continue with ``page_token=<next_page_token>`` (keyset paging by name and version); a
    token that was altered or belongs to other filters is refused with 400. ``offset`` is
    kept for older clients.
    """
    filters: dict[str, Any] = dict(
        name=name, tags=parse_pairs(tag), properties=parse_pairs(property), run_id=run_id,
        latest=latest, model_framework=model_framework,
    )  # fmt: skip
    if offset and page_token is not None:
        raise ValidationError("give page_token or offset, not both", parameter="page_token")
    if offset:
        return JsonResponse(slice_page(service.list_models(**filters), offset, limit))
    found = service.list_models_page(**filters, page_size=limit, page_token=page_token)
    more = found.next_page_token is not None
    return JsonResponse({
        "items": found.items, "next_page_token": found.next_page_token,
        # For clients that page by offset: the page holds the first matches, in order.
        "next_offset": len(found.items) if page_token is None and more and found.items else None,
    })  # fmt: skip


def _version(version: str) -> int | None:
    if version == "latest":
        return None
    if not version.isascii() or not version.isdigit() or int(version) > INT64_MAX:
        raise ValidationError(
            f"a model version is 'latest' or a number up to {INT64_MAX}, got {version!r:.80}"
        )
    return int(version)


@router.get("/{name}/versions/{version}", response_model=ModelInfo)
def get_model(name: str, version: str, service: TrackingService = Service) -> Any:
    """One model version (``latest`` allowed)."""
    return JsonResponse(service.get_model(name, _version(version)))


@router.patch("/{name}/versions/{version}", response_model=ModelInfo)
def update_model(
    name: str, version: str, body: ModelUpdate, service: TrackingService = Service
) -> Any:
    """Merge tags, remove tags, add properties and/or set the description."""
    number = service.get_model(name, _version(version)).version
    description = body.description if "description" in body.model_fields_set else UNCHANGED
    return JsonResponse(service.update_model(
        name, number, tags=body.tags, remove_tags=body.remove_tags,
        properties=body.properties, description=description,
    ))  # fmt: skip


@router.delete("/{name}/versions/{version}", status_code=204)
def delete_model(name: str, version: str, service: TrackingService = Service) -> Response:
    """Delete a model version and its files."""
    number = service.get_model(name, _version(version)).version
    service.delete_model(name, number)
    return Response(status_code=204)


@router.get("/{name}/versions/{version}/files/{file:path}", responses=binary())
def model_file(name: str, version: str, file: str, service: TrackingService = Service) -> Any:
    """The bytes of one file of a model version, streamed."""
    model = service.get_model(name, _version(version))
    relative = validate_artifact_name(file)
    if relative not in model.files:
        shown = ", ".join(model.files[:20]) or "no files"
        raise NotFoundError(f"model {model.model_id} has no file {relative!r}; it has: {shown}")
    stream = service.artifacts.open_read(model_file_key(name, model.version, relative))
    return StreamingResponse(stream_chunks(stream, 1 << 62), media_type="application/octet-stream")
