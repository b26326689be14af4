"""Rules for run files: safe names, content hashes, no-op re-uploads, snapshots."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from typing import BinaryIO

from runhistory.artifacts.base import ArtifactStore
from runhistory.artifacts.local_tree import walk_tree
from runhistory.artifacts.paths import validate_artifact_name
from runhistory.errors import ConflictError, NotFoundError, ValidationError
from runhistory.store.base import TrackingStore, file_conflict
from runhistory.tracking.entities import FileInfo, RunInfo, RunUpdate, WriteBatch

_CHUNK = 1024 * 1024
log = logging.getLogger("runhistory.files")


def file_sha256(path: str) -> str:
    """The SHA-256 of a local file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _HashingReader:
    """Wraps a binary stream and hashes what is read through it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if isinstance(data, str):
            raise ValidationError("upload streams must be opened in binary mode ('rb')")
        self.digest.update(data)
        return data


def run_file_key(run: RunInfo, name: str) -> str:
    """Where a run file lives in the artifact store."""
    return f"{run.experiment_id}/{run.run_id}/{name}"


class FileRules:
    """The file part of :class:`~runhistory.tracking.service.TrackingService`."""

    store: TrackingStore
    artifacts: ArtifactStore

    def upload_file(
        self, run_id: str, name: str, source: str | os.PathLike[str] | BinaryIO
    ) -> FileInfo:
        """Store a local file or a binary stream as ``name`` among the run's files.

        Re-uploading identical content under the same name changes nothing.
        """
        name = validate_artifact_name(name)
        run = self.store.get_run(run_id)
        other = self.store.find_file_conflict(run.run_id, name)
        if other is not None:  # checked before any byte is written (the index checks again)
            raise file_conflict(run.run_id, name, other)
        if isinstance(source, (str, os.PathLike)):
            return self._upload_path(run, name, os.fspath(source))
        reader = _HashingReader(source)
        size = self.artifacts.put_stream(run_file_key(run, name), reader)  # type: ignore[arg-type]
        existing = self._existing(run.run_id, name, reader.digest.hexdigest())
        return existing or self._record(run.run_id, name, size, reader.digest.hexdigest())

    def _existing(self, run_id: str, name: str, sha: str) -> FileInfo | None:
        """The index entry of ``name`` if it already holds content with this hash."""
        try:
            existing = self.store.get_file_entry(run_id, name)
        except NotFoundError:
            return None
        return existing if existing.sha256 == sha else None

    def _upload_path(self, run: RunInfo, name: str, path: str) -> FileInfo:
        if not os.path.isfile(path):
            raise NotFoundError(f"cannot upload {path!r} as {name!r}: no such file")
        sha = file_sha256(path)
        existing = self._existing(run.run_id, name, sha)
        if existing is not None:
            return existing
        size = self.artifacts.put_file(run_file_key(run, name), path)
        return self._record(run.run_id, name, size, sha)

    def _record(self, run_id: str, name: str, size: int, sha: str) -> FileInfo:
        now = time.time()
        self.store.put_file_entry(run_id, name, size, sha, now)
        return FileInfo(run_id=run_id, name=name, size=size, sha256=sha, created_time=now)

    def record_stored_file(self, run_id: str, name: str, size: int, sha256: str) -> FileInfo:
        """Index a run file whose bytes were written to the artifact store directly (a
        multipart upload joined under ``run_file_key(run, name)``); replaces the entry of an
        earlier file of that name.

        Raises:
            ConflictError: ``name`` clashes with a folder or file of the run.
        """
        name = validate_artifact_name(name)
        run = self.store.get_run(run_id)
        other = self.store.find_file_conflict(run.run_id, name)
        if other is not None:
            raise file_conflict(run.run_id, name, other)
        return self._existing(run.run_id, name, sha256) or self._record(
            run.run_id, name, size, sha256
        )

    def upload_folder(self, run_id: str, name: str, folder: str) -> list[FileInfo]:
        """Upload every file under ``folder`` as ``name/<relative path>``."""
        if not os.path.isdir(folder):
            raise NotFoundError(f"cannot upload folder {folder!r}: no such folder")
        return [
            self.upload_file(run_id, target, path) for target, path in folder_files(name, folder)
        ]

    def list_files(self, run_id: str, prefix: str | None = None) -> list[FileInfo]:
        """Index entries of the run's files, sorted by name."""
        self.store.get_run(run_id)
        return self.store.list_file_entries(run_id, prefix=prefix)

    def get_file_info(self, run_id: str, name: str) -> FileInfo:
        """The index entry of one run file."""
        return self.store.get_file_entry(run_id, validate_artifact_name(name))

    def open_file(self, run_id: str, name: str, offset: int = 0) -> BinaryIO:
        """A binary stream of one run file from byte ``offset`` on (close it when done)."""
        name = validate_artifact_name(name)
        run = self.store.get_run(run_id)
        self._require_file(run, name)
        stream = self.artifacts.open_read(run_file_key(run, name))
        if offset:
            stream.seek(offset)
        return stream

    def download_file(self, run_id: str, name: str, local_path: str) -> str:
        """Copy one run file to ``local_path``; returns the path."""
        name = validate_artifact_name(name)
        run = self.store.get_run(run_id)
        self._require_file(run, name)
        self.artifacts.get_to_file(run_file_key(run, name), local_path)
        return local_path

    def download_info(self, run_id: str, name: str) -> FileInfo:
        """The index entry of a run file about to be read (a missing file's error lists the
        run's files)."""
        return self._require_file(self.store.get_run(run_id), validate_artifact_name(name))

    def open_file_range(self, run_id: str, name: str, start: int, length: int) -> BinaryIO:
        """A binary stream of ``length`` bytes of one run file from byte ``start`` on (read no
        more than that; close it when done). An S3 store is asked for those bytes alone."""
        name = validate_artifact_name(name)
        run = self.store.get_run(run_id)
        self._require_file(run, name)
        return self.artifacts.open_range(run_file_key(run, name), start, length)

    def _require_file(self, run: RunInfo, name: str) -> FileInfo:
        try:
            return self.store.get_file_entry(run.run_id, name)
        except NotFoundError:
            names = [f.name for f in self.store.list_file_entries(run.run_id)]
            shown = ", ".join(names[:20]) or "no files"
            raise NotFoundError(
                f"run {run.run_id!r} has no file named {name!r}; it has: {shown}"
            ) from None

    def take_snapshot(self, run_id: str, path: str, max_bytes: int, max_files: int) -> str:
        """Snapshot a file or folder for the run; a run has at most one snapshot."""
        from runhistory.artifacts.snapshot import SnapshotStore

        run = self.store.get_run(run_id)
        if run.snapshot_id is not None:
            raise ConflictError(
                f"run {run_id!r} already has snapshot {run.snapshot_id!r}; a run has at most one"
            )
        if not os.path.exists(path):
            raise NotFoundError(f"cannot snapshot {path!r}: no such file or folder")
        snapshot_id = SnapshotStore(self.artifacts).take(
            path, max_bytes=max_bytes, max_files=max_files
        )
        update = RunUpdate(run_id, {"snapshot_id": snapshot_id})
        self.store.write_changes(WriteBatch(updates=[update]))
        return snapshot_id

    def restore_snapshot_zip(self, snapshot_id: str, zip_path: str) -> str:
        """Write a snapshot as a zip file at ``zip_path``."""
        from runhistory.artifacts.snapshot import SnapshotStore

        return SnapshotStore(self.artifacts).to_zip(snapshot_id, zip_path)


def folder_files(name: str, folder: str) -> list[tuple[str, str]]:
    """``(run file name, local path)`` of each file ``upload_folder(name, folder)`` stores.

    Links follow the rule of :mod:`~runhistory.artifacts.local_tree`; what it skips is
    logged as a warning.
    """
    prefix = validate_artifact_name(name) if name not in ("", ".") else ""
    tree = walk_tree(folder)
    for skipped in tree.skipped:
        log.warning("runhistory: upload of %s %s", folder, skipped.warning(prefix))
    return [(f"{prefix}/{relative}" if prefix else relative, path) for relative, path in tree.files]
