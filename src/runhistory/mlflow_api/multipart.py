"""MLflow's multipart uploads through the ``mlflow-artifacts`` proxy (``mpu/create``,
``mpu/complete``, ``mpu/abort``), mapped onto the artifact store's
:class:`~runhistory.artifacts.multipart.MultipartUploads`.

MLflow's client posts to ``mpu/create/<experiment id>/<run id>/artifacts[/<folder>]`` with the
message ``{"path": <its local file>, "num_parts": n}``: the artifact is ``<folder>/<file name of
path>``, as MLflow's own server names it. The answer lists one credential (URL and headers) per
part; the client ``PUT``\\ s each part there, then posts the parts' ETags to ``mpu/complete``
(or ``mpu/abort`` when a part failed). Completing indexes the joined file as the run's file,
replacing an earlier file of that name, like a single upload does.

A store that cannot take parts is answered 501 with MLflow's "Multipart upload is not
supported" message, on which MLflow's client sends the file in one upload.
"""

from __future__ import annotations

import re
from typing import Any

from runhistory.artifacts.multipart import (
    MultipartUploads,
    Readable,
    UploadedPart,
    check_num_parts,
)
from runhistory.artifacts.paths import validate_artifact_name
from runhistory.errors import MultipartUnsupportedError, NotFoundError
from runhistory.mlflow_api.artifacts import model_path, split_path
from runhistory.mlflow_api.errors import NOT_IMPLEMENTED, MlflowApiError, not_found
from runhistory.store.base import file_conflict
from runhistory.tracking.entities import RunInfo
from runhistory.tracking.files import run_file_key
from runhistory.tracking.service import TrackingService

__all__ = ["MULTIPART_UNSUPPORTED", "MultipartProxy"]

MULTIPART_UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"
"""The message (prefix) on which MLflow's client falls back to one plain upload."""

_SEPARATORS = re.compile(r"[/\\]")


class MultipartProxy:
    """The multipart part of MLflow's artifact proxy over one tracking service."""

    def __init__(self, service: TrackingService) -> None:
        self._service = service

    def enabled(self) -> bool:
        """Whether the artifact store takes multipart uploads (``server-info`` says so)."""
        try:
            self._service.artifacts.multipart()
        except MultipartUnsupportedError:
            return False
        return True

    def create(self, path: str, message: dict[str, Any], part_url_base: str) -> dict[str, Any]:
        """``mpu/create``: ``{"upload_id", "credentials": [{"url", "part_number", "headers"}]}``.

        Args:
            path: the artifact folder of the URL (``<experiment id>/<run id>/artifacts/…``).
            message: MLflow's request: ``path`` (the client's local file) and ``num_parts``.
            part_url_base: where this server takes parts itself (local stores).
        """
        run, name = self._target(path, message)
        num_parts = _num_parts(message.get("num_parts"))
        uploads = self._uploads()
        other = self._service.store.find_file_conflict(run.run_id, name)
        if other is not None:  # before the client sends any byte
            raise file_conflict(run.run_id, name, other)
        started = uploads.start(run_file_key(run, name), num_parts, part_url_base)
        credentials = [
            {"url": part.url, "part_number": part.part_number, "headers": part.headers}
            for part in started.parts
        ]
        return {"upload_id": started.upload_id, "credentials": credentials}

    def complete(self, path: str, message: dict[str, Any]) -> dict[str, Any]:
        """``mpu/complete``: join the parts and index the file among the run's files."""
        run, name = self._target(path, message)
        upload_id = _upload_id(message)
        parts = _parts(message.get("parts"))
        uploads = self._uploads()
        other = self._service.store.find_file_conflict(run.run_id, name)
        if other is not None:
            raise file_conflict(run.run_id, name, other)
        assembled = uploads.complete(run_file_key(run, name), upload_id, parts)
        self._service.record_stored_file(run.run_id, name, assembled.size, assembled.sha256)
        return {}

    def abort(self, path: str, message: dict[str, Any]) -> dict[str, Any]:
        """``mpu/abort``: drop the upload and its parts."""
        run, name = self._target(path, message)
        self._uploads().abort(run_file_key(run, name), _upload_id(message))
        return {}

    def check_part(self, upload_id: str, part_number: str, secret: str) -> int:
        """Refuse a part before its body is read; returns the part number."""
        number = _part_number(part_number)
        self._uploads().check_part(upload_id, number, secret)
        return number

    def put_part(self, upload_id: str, part_number: int, secret: str, source: Readable) -> str:
        """Store one part sent to this server; returns its ETag."""
        return self._uploads().put_part(upload_id, part_number, secret, source)

    def _uploads(self) -> MultipartUploads:
        try:
            return self._service.artifacts.multipart()
        except MultipartUnsupportedError as exc:
            message = f"{MULTIPART_UNSUPPORTED}: {exc.message}"
            raise MlflowApiError(message, NOT_IMPLEMENTED) from None

    def _target(self, path: str, message: dict[str, Any]) -> tuple[RunInfo, str]:
        """The run and the file name an ``mpu`` request is about."""
        if model_path(path) is not None:
            raise MlflowApiError(
                "the files of a registered model version are copied from a run's artifacts "
                "when it is registered, and cannot be uploaded to"
            )
        run_id, folder = split_path(path)
        local = message.get("path")
        if not isinstance(local, str) or not local.strip():
            raise MlflowApiError("'path' (the file being uploaded) is required")
        base = _SEPARATORS.split(local.rstrip("/\\"))[-1]
        name = validate_artifact_name(f"{folder}/{base}" if folder else base)
        try:
            run = self._service.get_run(run_id)
        except NotFoundError:
            raise not_found(f"Run with id={run_id} not found") from None
        return run, name


def _num_parts(value: object) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    try:
        return check_num_parts(value)
    except ValueError as exc:
        raise MlflowApiError(str(exc)) from None


def _upload_id(message: dict[str, Any]) -> str:
    upload_id = message.get("upload_id")
    if not isinstance(upload_id, str) or not upload_id:
        raise MlflowApiError("'upload_id' is required")
    return upload_id


def _part_number(value: object) -> int:
    text = str(value)
    if not text.isdigit() or len(text) > 6:
        raise MlflowApiError(f"a part number is a positive integer, not {text[:20]!r}")
    return int(text)


def _parts(value: object) -> list[UploadedPart]:
    if not isinstance(value, list) or not value:
        raise MlflowApiError("'parts' must list every part: [{part_number, etag}, …]")
    parts: list[UploadedPart] = []
    for item in value:
        if not isinstance(item, dict):
            raise MlflowApiError(f"each part is {{part_number, etag}}, not {item!r:.80}")
        etag = item.get("etag")
        if not isinstance(etag, str) or not etag:
            raise MlflowApiError(f"part {item.get('part_number')!r} has no etag")
        parts.append(UploadedPart(_part_number(item.get("part_number")), etag))
    return parts
