"""Run files and snapshots, streamed in both directions through the server."""

from __future__ import annotations

import mimetypes
import os
import shutil
import tempfile
from typing import Any, BinaryIO

from fastapi import APIRouter, Depends, Request
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse

from runhistory.artifacts.paths import validate_artifact_name
from runhistory.server.answers import FilePage, SnapshotAnswer, binary
from runhistory.server.body import WireRoute, body_to_temp_file
from runhistory.server.errors import error_response
from runhistory.server.params import Count
from runhistory.server.ranges import ranged_response
from runhistory.server.responses import JsonResponse
from runhistory.server.routes import tracking
from runhistory.server.zips import extract_zip
from runhistory.tracking.entities import FileInfo
from runhistory.tracking.service import TrackingService

router = APIRouter(route_class=WireRoute, tags=["files"])
Service = Depends(tracking)
_RAW_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.put("/runs/{run_id}/files/{name:path}", openapi_extra=_RAW_BODY, response_model=FileInfo)
async def upload_file(run_id: str, name: str, request: Request) -> Any:
    """Store the raw body as the run file ``name`` (streamed to disk, then to the store)."""
    name = validate_artifact_name(name)
    service: TrackingService = request.app.state.services.tracking
    await run_in_threadpool(service.get_run, run_id)  # 404 before reading the body
    path = await body_to_temp_file(request)
    try:
        info = await run_in_threadpool(service.upload_file, run_id, name, path)
    finally:
        os.unlink(path)
    return JsonResponse(info)


@router.get("/runs/{run_id}/files", response_model=FilePage)
def list_files(run_id: str, prefix: str | None = None, service: TrackingService = Service) -> Any:
    """The run's files (name, size, sha256), sorted by name."""
    return JsonResponse({"items": service.list_files(run_id, prefix=prefix), "next_offset": None})


@router.get("/runs/{run_id}/file-info/{name:path}", response_model=FileInfo)
def get_file_info(run_id: str, name: str, service: TrackingService = Service) -> Any:
    """The index entry (size, sha256) of one run file."""
    return JsonResponse(service.get_file_info(run_id, name))


@router.get("/runs/{run_id}/files/{name:path}", responses=binary("*/*", ranges=True))
def download_file(
    run_id: str, name: str, request: Request, service: TrackingService = Service
) -> Any:
    """The bytes of one run file, streamed; a single ``Range: bytes=a-b`` is honoured (206,
    or 416 past the end; an S3 store is asked for the range alone)."""
    info = service.download_info(run_id, name)  # a missing file's error lists the run's files
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"

    def open_range(start: int, length: int) -> BinaryIO:
        return service.open_file_range(run_id, name, start, length)

    header = request.headers.get("range")
    return ranged_response(header, info.size, open_range, kind, error_response)


@router.post("/runs/{run_id}/snapshot", openapi_extra=_RAW_BODY, response_model=SnapshotAnswer)
async def take_snapshot(
    run_id: str,
    request: Request,
    max_bytes: Count = 300 * 1024 * 1024,
    max_files: Count = 2000,
) -> Any:
    """Store the uploaded zip of a source folder as the run's snapshot."""
    service: TrackingService = request.app.state.services.tracking
    await run_in_threadpool(service.get_run, run_id)
    archive = await body_to_temp_file(request, ".zip")
    folder = tempfile.mkdtemp(prefix="runhistory-snapshot-")
    try:
        await run_in_threadpool(extract_zip, archive, folder, "", max_bytes, max_files)
        snapshot_id = await run_in_threadpool(
            service.take_snapshot, run_id, folder, max_bytes, max_files
        )
    finally:
        os.unlink(archive)
        shutil.rmtree(folder, ignore_errors=True)
    return JsonResponse({"snapshot_id": snapshot_id})


@router.get("/snapshots/{snapshot_id}/zip", responses=binary("application/zip"))
def snapshot_zip(snapshot_id: str, service: TrackingService = Service) -> Any:
    """A snapshot as a zip file."""
    handle, path = tempfile.mkstemp(prefix="runhistory-snapshot-", suffix=".zip")
    os.close(handle)
    try:
        service.restore_snapshot_zip(snapshot_id, path)
    except BaseException:
        os.unlink(path)
        raise
    cleanup = BackgroundTask(os.unlink, path)
    name = f"{snapshot_id}.zip"
    return FileResponse(path, media_type="application/zip", filename=name, background=cleanup)
