"""Run files and snapshots, streamed in both directions through the server."""

from __future__ import annotations

import mimetypes
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from fastapi import APIRouter, Depends, Request
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, StreamingResponse

from runhistory.artifacts.paths import validate_artifact_name
from runhistory.errors import ValidationError
from runhistory.server.answers import FilePage, SnapshotAnswer, binary
from runhistory.server.body import WireRoute, body_to_temp_file
from runhistory.server.params import Count
from runhistory.server.responses import JsonResponse
from runhistory.server.routes import tracking
from runhistory.server.zips import extract_zip
from runhistory.tracking.entities import FileInfo
from runhistory.tracking.service import TrackingService

router = APIRouter(route_class=WireRoute, tags=["files"])
Service = Depends(tracking)
CHUNK = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
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
    """The bytes of one run file, streamed; a single ``Range: bytes=a-b`` is honoured."""
    stream = service.open_file(run_id, name)  # a missing file's error lists the run's files
    info = service.get_file_info(run_id, name)
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    span = _parse_range(request.headers.get("range"), info.size)
    if span is None:
        headers = {"Content-Length": str(info.size), "Accept-Ranges": "bytes"}
        return StreamingResponse(_chunks(stream, info.size), media_type=kind, headers=headers)
    start, end = span
    stream.seek(start)
    headers = {
        "Content-Range": f"bytes {start}-{end}/{info.size}",
        "Content-Length": str(end - start + 1),
        "Accept-Ranges": "bytes",
    }
    body = _chunks(stream, end - start + 1)
    return StreamingResponse(body, status_code=206, media_type=kind, headers=headers)


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or match.group(0) == "bytes=-":
        raise ValidationError(f"unsupported Range {header!r}: use one range, bytes=start-end")
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        error = ValidationError(f"range {header!r} is outside the file of {size} bytes")
        error.status_code = 416  # type: ignore[misc]
        raise error
    return start, end


def _chunks(stream: BinaryIO, remaining: int) -> Iterator[bytes]:
    try:
        while remaining > 0:
            chunk = stream.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        stream.close()


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
