"""Content-addressed snapshots of source files inside an :class:`ArtifactStore`.

Each file's contents is stored once, under its SHA-256
(``snapshots/blobs/<sha[:2]>/<sha>``); a snapshot is a JSON manifest
(``snapshots/manifests/<snapshot id>.json``) mapping relative paths to blobs, sizes and modes. An
unchanged file shared by many snapshots is therefore stored once. The manifest is written last, so
a snapshot interrupted half way is simply not there.

Which files of a folder are taken follows :func:`collect_tree`: ``.amlignore`` if the folder has
one, else its ``.gitignore``, never ``.git/``, and links by the rule of
:mod:`~runhistory.artifacts.local_tree` (followed inside the folder, skipped with a warning
otherwise).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import time
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

from runhistory.artifacts.base import ArtifactStore
from runhistory.artifacts.local_tree import LocalTree, walk_tree
from runhistory.artifacts.paths import validate_artifact_name
from runhistory.errors import NotFoundError, SnapshotError, UnsafePathError

__all__ = [
    "DEFAULT_MAX_BYTES", "DEFAULT_MAX_FILES", "SnapshotStore", "collect_files", "collect_tree",
]  # fmt: skip

DEFAULT_MAX_BYTES = 300 * 1024 * 1024
DEFAULT_MAX_FILES = 2000
_CHUNK = 1024 * 1024
_IGNORE_FILES = (".amlignore", ".gitignore")  # the first one present wins
_LARGEST_SHOWN = 5
log = logging.getLogger("runhistory.files")


@dataclass(frozen=True)
class _Entry:
    relpath: str
    abspath: str
    size: int
    mode: int


class SnapshotStore:
    """Takes, reads and restores snapshots kept in ``artifacts``.

    Example:
        >>> snapshots = SnapshotStore(open_artifact_store("/tmp/artifacts"))  # doctest: +SKIP
        >>> snapshot_id = snapshots.take("./src")  # doctest: +SKIP
        >>> snapshots.to_zip(snapshot_id, "/tmp/src.zip")  # doctest: +SKIP
    """

    def __init__(self, artifacts: ArtifactStore) -> None:
        self.artifacts = artifacts

    def take(
        self, path: str, max_bytes: int = DEFAULT_MAX_BYTES, max_files: int = DEFAULT_MAX_FILES
    ) -> str:
        """Snapshot a file or a folder and return the new snapshot id (a UUID string).

        Blobs already in the store are not written again.

        Raises:
            SnapshotError: ``path`` does not exist or cannot be read, or the files to take exceed
                ``max_bytes`` in total or ``max_files`` in number (the message lists the largest).
        """
        entries = _entries(path)
        _check_limits(path, entries, max_bytes, max_files)
        files: dict[str, dict[str, Any]] = {}
        stored: set[str] = set()
        for entry in entries:
            digest = self._store_blob(entry, stored)
            files[entry.relpath] = {"sha256": digest, "size": entry.size, "mode": entry.mode}
        snapshot_id = str(uuid.uuid4())
        manifest = {"files": files, "created_time": time.time()}
        data = json.dumps(manifest, sort_keys=True, indent=1).encode("utf-8")
        self.artifacts.put_bytes(_manifest_key(snapshot_id), data)
        return snapshot_id

    def manifest(self, snapshot_id: str) -> dict[str, Any]:
        """The manifest of a snapshot: ``{"files": {relpath: {sha256, size, mode}}, ...}``.

        Raises:
            NotFoundError: there is no snapshot ``snapshot_id``.
        """
        key = _manifest_key(snapshot_id)
        try:
            data = self.artifacts.get_bytes(key)
        except NotFoundError:
            raise NotFoundError(
                f"no snapshot {snapshot_id!r} in {self.artifacts.uri()}", snapshot_id=snapshot_id
            ) from None
        result: dict[str, Any] = json.loads(data)
        return result

    def extract(self, snapshot_id: str, dest_dir: str) -> str:
        """Recreate the snapshot's files, with their modes, under ``dest_dir``; return its path.

        Raises:
            NotFoundError: there is no snapshot ``snapshot_id``.
        """
        dest = os.path.abspath(dest_dir)
        os.makedirs(dest, exist_ok=True)
        for relpath, info in sorted(self.manifest(snapshot_id)["files"].items()):
            target = os.path.join(dest, *validate_artifact_name(relpath).split("/"))
            self.artifacts.get_to_file(_blob_key(info["sha256"]), target)
            os.chmod(target, int(info["mode"]) & 0o777)
        return dest

    def to_zip(self, snapshot_id: str, zip_path: str) -> str:
        """Write the snapshot as a zip file at ``zip_path`` (modes kept); return its path.

        Raises:
            NotFoundError: there is no snapshot ``snapshot_id``.
        """
        manifest = self.manifest(snapshot_id)
        stamp = time.localtime(manifest.get("created_time", time.time()))[:6]
        path = os.path.abspath(zip_path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for relpath, info in sorted(manifest["files"].items()):
                member = zipfile.ZipInfo(validate_artifact_name(relpath), date_time=stamp)
                member.compress_type = zipfile.ZIP_DEFLATED
                member.external_attr = (stat.S_IFREG | (int(info["mode"]) & 0o777)) << 16
                with (
                    self.artifacts.open_read(_blob_key(info["sha256"])) as source,
                    archive.open(member, "w", force_zip64=True) as target,
                ):
                    while chunk := source.read(_CHUNK):
                        target.write(chunk)
        return path

    def _store_blob(self, entry: _Entry, stored: set[str]) -> str:
        digest = _sha256(entry.abspath)
        if digest not in stored and not self.artifacts.exists(_blob_key(digest)):
            self.artifacts.put_file(_blob_key(digest), entry.abspath)
        stored.add(digest)
        return digest


def collect_files(folder: str) -> list[tuple[str, str]]:
    """The files of ``folder`` a snapshot takes, as sorted ``(relative POSIX path, path)``.

    See :func:`collect_tree`, which also says what was skipped.
    """
    return collect_tree(folder).files


def collect_tree(folder: str) -> LocalTree:
    """The files of ``folder`` a snapshot takes, and the entries it skips.

    If the top-level folder has an ``.amlignore`` its patterns decide (it wins over any
    ``.gitignore``), else its top-level ``.gitignore`` does; patterns follow gitignore rules. Any
    ``.git`` folder is always skipped. Links follow the rule of
    :mod:`~runhistory.artifacts.local_tree`: followed inside the folder, skipped (with a
    reason) when they point outside it, dangle or loop.
    """
    root = os.path.abspath(folder)
    spec = _ignore_spec(root)
    if spec is None:
        return walk_tree(root)
    return walk_tree(root, lambda relpath, is_dir: bool(spec.match_file(
        f"{relpath}/" if is_dir else relpath)))  # fmt: skip


def _ignore_spec(root: str) -> Any:
    import pathspec  # only snapshots need it

    for name in _IGNORE_FILES:
        candidate = os.path.join(root, name)
        if os.path.isfile(candidate):
            with open(candidate, encoding="utf-8", errors="replace") as handle:
                return pathspec.GitIgnoreSpec.from_lines(handle.read().splitlines())
    return None


def _is_regular_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _entries(path: str) -> list[_Entry]:
    """Every file to take from ``path`` with its size and mode."""
    root = os.path.abspath(path)
    if os.path.isdir(root):
        tree = collect_tree(root)
        for skipped in tree.skipped:
            log.warning("runhistory: snapshot of %s %s", root, skipped.warning(""))
        pairs = tree.files
    elif _is_regular_file(root):
        pairs = [(os.path.basename(root), root)]
    else:
        raise SnapshotError(f"cannot snapshot {path!r}: no such file or folder", path=path)
    entries = []
    for relpath, abspath in pairs:
        try:
            validate_artifact_name(relpath)  # extract() must be able to recreate it safely
            info = os.stat(abspath)
        except (OSError, UnsafePathError) as exc:
            raise SnapshotError(f"cannot snapshot {abspath!r}: {exc}", path=abspath) from exc
        entries.append(_Entry(relpath, abspath, info.st_size, stat.S_IMODE(info.st_mode) & 0o777))
    return entries


def _check_limits(path: str, entries: list[_Entry], max_bytes: int, max_files: int) -> None:
    total = sum(entry.size for entry in entries)
    if total > max_bytes:
        problem = (
            f"is too large: {_human(total)} ({total} bytes) in {len(entries)} files, over the "
            f"limit of {_human(max_bytes)} ({max_bytes} bytes) set by the max_bytes argument or "
            f"the RUNHISTORY_SNAPSHOT_MAX_BYTES setting"
        )
    elif len(entries) > max_files:
        problem = (
            f"has too many files: {len(entries)}, over the limit of {max_files} files set by "
            f"the max_files argument or the RUNHISTORY_SNAPSHOT_MAX_FILES setting"
        )
    else:
        return
    largest = sorted(entries, key=lambda entry: (-entry.size, entry.relpath))[:_LARGEST_SHOWN]
    shown = ", ".join(f"{entry.relpath} ({_human(entry.size)})" for entry in largest)
    raise SnapshotError(
        f"snapshot of {path!r} {problem}. Raise the limit, or leave files out with an "
        f".amlignore file in the folder. Largest files: {shown}",
        path=path, total_bytes=total, file_count=len(entries),
        max_bytes=max_bytes, max_files=max_files,
    )  # fmt: skip


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise SnapshotError(f"cannot snapshot {path!r}: {exc}", path=path) from exc
    return digest.hexdigest()


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _blob_key(sha256: str) -> str:
    return f"snapshots/blobs/{sha256[:2]}/{sha256}"


def _manifest_key(snapshot_id: str) -> str:
    try:
        canonical = str(uuid.UUID(snapshot_id))
    except (ValueError, TypeError, AttributeError):
        raise NotFoundError(f"no snapshot {snapshot_id!r}: not a snapshot id") from None
    return f"snapshots/manifests/{canonical}.json"
