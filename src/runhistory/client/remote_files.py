"""Files over HTTP: run files, snapshots and model files, streamed in both directions."""

from __future__ import annotations

import io
import os
import stat
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx
import orjson

from runhistory.artifacts.paths import validate_artifact_name
from runhistory.client.http import HttpClient
from runhistory.client.wire import record, records
from runhistory.errors import (
    ConflictError,
    NotFoundError,
    RangeNotSatisfiableError,
    ValidationError,
)
from runhistory.tracking.entities import FileInfo, ModelInfo
from runhistory.tracking.files import file_sha256, folder_files
from runhistory.tracking.validation import check_model_name, check_properties, check_tags

CHUNK = 1024 * 1024
_OCTETS = {"Content-Type": "application/octet-stream"}


def _path(value: str) -> str:
    return quote(value, safe="/")


def _file_chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _stream_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        if isinstance(chunk, str):
            raise ValidationError("upload streams must be opened in binary mode ('rb')")
        yield chunk


class _ResponseReader(io.RawIOBase):
    """A readable binary file over a streamed HTTP response."""

    def __init__(self, response: httpx.Response, closer: Any) -> None:
        self._chunks = response.iter_bytes(CHUNK)
        self._pending = b""
        self._closer = closer

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._pending:
            self._pending = next(self._chunks, b"")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            self._closer.__exit__(None, None, None)
        super().close()


class RemoteFilesMixin:
    """The file methods of :class:`~runhistory.client.remote.RemoteBackend`."""

    http: HttpClient

    # ---- run files --------------------------------------------------------------------
    def upload_file(self, run_id: str, name: str, source: Any) -> FileInfo:
        """Upload a local file or a binary stream as a run file (streamed)."""
        name = validate_artifact_name(name)
        url = f"/runs/{quote(run_id, safe='')}/files/{_path(name)}"
        if not isinstance(source, (str, os.PathLike)):
            return record(FileInfo, self.http.upload("PUT", url, lambda: _stream_chunks(source),
                                                     headers=_OCTETS))  # fmt: skip
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise NotFoundError(f"cannot upload {path!r} as {name!r}: no such file")
        existing = self._same_file(run_id, name, path)
        if existing is not None:
            return existing
        found = self.http.upload("PUT", url, lambda: _file_chunks(path), headers=_OCTETS)
        return record(FileInfo, found)

    def _same_file(self, run_id: str, name: str, path: str) -> FileInfo | None:
        try:
            existing = self.get_file_info(run_id, name)
        except NotFoundError:
            return None
        return existing if existing.sha256 == file_sha256(path) else None

    def upload_folder(self, run_id: str, name: str, folder: str) -> list[FileInfo]:
        """Upload every file under ``folder`` as ``name/<relative path>``."""
        if not os.path.isdir(folder):
            raise NotFoundError(f"cannot upload folder {folder!r}: no such folder")
        return [
            self.upload_file(run_id, target, path) for target, path in folder_files(name, folder)
        ]

    def list_files(self, run_id: str, prefix: str | None = None) -> list[FileInfo]:
        """The run's files, sorted by name."""
        params = {"prefix": prefix} if prefix else None
        found = self.http.call("GET", f"/runs/{quote(run_id, safe='')}/files", params=params)
        return records(FileInfo, found["items"])

    def get_file_info(self, run_id: str, name: str) -> FileInfo:
        """The index entry of one run file."""
        name = validate_artifact_name(name)
        url = f"/runs/{quote(run_id, safe='')}/file-info/{_path(name)}"
        return record(FileInfo, self.http.call("GET", url))

    def open_file(self, run_id: str, name: str, offset: int = 0) -> BinaryIO:
        """A binary stream of one run file from byte ``offset`` on (close it when done).

        A non-zero offset is an HTTP ``Range`` request: a growing log is tailed by reading
        only what was added, and an offset at the end of the file gives an empty stream.
        """
        name = validate_artifact_name(name)
        url = f"/runs/{quote(run_id, safe='')}/files/{_path(name)}"
        if not offset:
            return self._open(url)
        try:
            return self._open(url, headers={"Range": f"bytes={offset}-"})
        except RangeNotSatisfiableError:  # nothing after offset (yet)
            return io.BytesIO(b"")  # type: ignore[return-value]

    def _open(self, url: str, headers: dict[str, str] | None = None) -> BinaryIO:
        closer = self.http.stream("GET", url, headers=headers)
        response = closer.__enter__()
        return io.BufferedReader(_ResponseReader(response, closer), CHUNK)  # type: ignore[return-value]

    def download_file(self, run_id: str, name: str, local_path: str) -> str:
        """Copy one run file to ``local_path`` (streamed); returns the path."""
        name = validate_artifact_name(name)
        self._download(f"/runs/{quote(run_id, safe='')}/files/{_path(name)}", local_path)
        return local_path

    def _download(self, url: str, local_path: str) -> None:
        folder = os.path.dirname(os.path.abspath(local_path))
        os.makedirs(folder, exist_ok=True)
        handle, partial = tempfile.mkstemp(prefix=".rh-download-", dir=folder)
        try:
            with os.fdopen(handle, "wb") as out, self.http.stream("GET", url) as response:
                for chunk in response.iter_bytes(CHUNK):
                    out.write(chunk)
            os.replace(partial, local_path)
        except BaseException:
            if os.path.exists(partial):
                os.unlink(partial)
            raise

    # ---- snapshots --------------------------------------------------------------------
    def take_snapshot(self, run_id: str, path: str, max_bytes: int, max_files: int) -> str:
        """Snapshot a local file or folder for the run (limits checked before uploading)."""
        from runhistory.artifacts.snapshot import _check_limits, _entries  # the same rules

        if not os.path.exists(path):
            raise NotFoundError(f"cannot snapshot {path!r}: no such file or folder")
        entries = _entries(path)
        _check_limits(path, entries, max_bytes, max_files)
        members = [(e.relpath, e.abspath, e.mode) for e in entries]
        with _temporary_zip(members) as archive:
            found = self.http.upload(
                "POST", f"/runs/{quote(run_id, safe='')}/snapshot", lambda: _file_chunks(archive),
                params={"max_bytes": max_bytes, "max_files": max_files}, headers=_OCTETS,
            )  # fmt: skip
        return str(found["snapshot_id"])

    def restore_snapshot_zip(self, snapshot_id: str, zip_path: str) -> str:
        """Download a snapshot as a zip file at ``zip_path``."""
        self._download(f"/snapshots/{quote(snapshot_id, safe='')}/zip", zip_path)
        return zip_path

    # ---- model files ------------------------------------------------------------------
    def register_local_model(
        self, model_name: str, relatives: Sequence[str], sources: Sequence[str],
        tags: object = None, properties: object = None, model_framework: str | None = None,
        model_framework_version: str | None = None, description: str | None = None,
    ) -> ModelInfo:  # fmt: skip
        """Upload local files (``sources``) as ``relatives`` in the next model version."""
        check_model_name(model_name)  # before a byte is sent
        checked = [validate_artifact_name(r) for r in relatives]
        metadata = {
            "model_name": model_name, "tags": check_tags(tags or {}),
            "properties": check_properties(properties or {}), "model_framework": model_framework,
            "model_framework_version": model_framework_version, "description": description,
        }  # fmt: skip
        members = [(f"files/{r}", s, 0o644) for r, s in zip(checked, sources, strict=True)]
        with _temporary_zip(members, {"metadata.json": orjson.dumps(metadata)}) as archive:
            found = self.http.upload("POST", "/models/upload", lambda: _file_chunks(archive),
                                     headers=_OCTETS)  # fmt: skip
        return record(ModelInfo, found)

    def download_model(
        self, name: str, version: int, target_dir: str, exist_ok: bool = False
    ) -> str:
        """Download a model version's files into ``target_dir``; returns the model's path there."""
        model: ModelInfo = self.get_model(name, version)  # type: ignore[attr-defined]
        for relative in model.files:
            destination = os.path.join(target_dir, *relative.split("/"))
            if os.path.exists(destination) and not exist_ok:
                raise ConflictError(
                    f"{destination!r} already exists; pass exist_ok=True to overwrite it"
                )
            url = f"/models/{quote(name, safe='')}/versions/{model.version}/files/{_path(relative)}"
            self._download(url, destination)
        top = {r.split("/")[0] for r in model.files}
        return os.path.join(target_dir, top.pop()) if len(top) == 1 else target_dir


class _temporary_zip:
    """A zip of local files in a temporary file, deleted on exit (files are never held whole)."""

    def __init__(
        self, members: Sequence[tuple[str, str, int]], extra: dict[str, bytes] | None = None
    ) -> None:
        self._members = members
        self._extra = extra or {}
        self._path = ""

    def __enter__(self) -> str:
        handle, self._path = tempfile.mkstemp(prefix="runhistory-upload-", suffix=".zip")
        os.close(handle)
        stamp = time.localtime()[:6]
        with zipfile.ZipFile(self._path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in self._extra.items():
                archive.writestr(name, data)
            for name, source, mode in self._members:
                member = zipfile.ZipInfo(name, date_time=stamp)
                member.compress_type = zipfile.ZIP_DEFLATED
                member.external_attr = (stat.S_IFREG | (mode & 0o777)) << 16
                with (
                    open(source, "rb") as reader,
                    archive.open(member, "w", force_zip64=True) as out,
                ):
                    while chunk := reader.read(CHUNK):
                        out.write(chunk)
        return self._path

    def __exit__(self, *exc: object) -> None:
        if self._path and os.path.exists(self._path):
            os.unlink(self._path)
