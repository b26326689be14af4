"""Unpacking uploaded zip files safely: sizes checked first, no member escaping its folder.

Before a byte is unpacked, the archive's own size and the sizes its directory declares are
checked against the limits of the upload and against the free space of the target folder
(reading a member never yields more than its declared size, so the declared sizes bind).
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile

from runhistory.artifacts.paths import validate_artifact_name
from runhistory.errors import StorageError, ValidationError
from runhistory.server.errors import PayloadTooLargeError

# Room for the zip's own headers and directory when its size is compared with the content's.
_OVERHEAD = 64 * 1024
_OVERHEAD_PER_MEMBER = 1024


def extract_zip(
    archive: str,
    folder: str,
    prefix: str = "",
    max_bytes: int | None = None,
    max_files: int | None = None,
) -> list[str]:
    """Extract the members of ``archive`` under ``prefix`` into ``folder``, keeping file modes.

    Returns the extracted relative names (without ``prefix``), in archive order.

    Raises:
        PayloadTooLargeError: the archive, or what it declares it unpacks to, is over
            ``max_bytes``, or it holds more than ``max_files`` files (HTTP 413).
        StorageError: ``folder``'s disk has no room for what the archive unpacks to.
        UnsafePathError: a member name is absolute, contains ``..`` or a control character.
        ValidationError: the upload is not a zip file.
    """
    try:
        with zipfile.ZipFile(archive) as source:
            members = _members(source, prefix)
            check_sizes(archive, members, folder, max_bytes, max_files)
            return [_extract(source, m, folder, prefix) for m in members]
    except zipfile.BadZipFile as exc:
        raise ValidationError(f"the upload is not a valid zip file: {exc}") from None


def check_sizes(
    archive: str,
    members: list[zipfile.ZipInfo],
    folder: str,
    max_bytes: int | None,
    max_files: int | None,
) -> None:
    """Refuse an archive over its limits, or one that would fill ``folder``'s disk."""
    declared = sum(member.file_size for member in members)
    if max_files is not None and len(members) > max_files:
        raise _too_large(f"the zip holds {len(members)} files, over the limit of {max_files}",
                         max_files)  # fmt: skip
    if max_bytes is not None:
        sent = os.path.getsize(archive)
        if sent > max_bytes + _OVERHEAD + _OVERHEAD_PER_MEMBER * len(members):
            raise _too_large(f"the zip of {sent} bytes is over the limit of {max_bytes} bytes",
                             max_bytes)  # fmt: skip
        if declared > max_bytes:
            raise _too_large(f"the zip unpacks to {declared} bytes, over the limit of "
                             f"{max_bytes} bytes", max_bytes)  # fmt: skip
    free = shutil.disk_usage(folder).free
    if declared > free:
        raise StorageError(
            f"no space left on device while unpacking an upload of {declared} bytes "
            f"({free} bytes free)",
            reason="disk full",
        )


def _too_large(problem: str, limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"{problem}; nothing was unpacked", limit=limit)


def read_small_member(source: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """The contents of member ``name``, refused (413) if it declares more than ``limit``.

    Raises:
        KeyError: there is no such member.
    """
    info = source.getinfo(name)
    if info.file_size > limit:
        raise _too_large(f"{name} declares {info.file_size} bytes, over the limit of {limit}",
                         limit)  # fmt: skip
    return source.read(info)


def _members(source: zipfile.ZipFile, prefix: str) -> list[zipfile.ZipInfo]:
    return [m for m in source.infolist() if not m.is_dir() and m.filename.startswith(prefix)]


def _extract(source: zipfile.ZipFile, member: zipfile.ZipInfo, folder: str, prefix: str) -> str:
    relative = validate_artifact_name(member.filename[len(prefix) :])
    target = os.path.join(folder, *relative.split("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with source.open(member) as reader, open(target, "wb") as writer:
        shutil.copyfileobj(reader, writer, 1024 * 1024)
    mode = (member.external_attr >> 16) & 0o777
    if mode:
        os.chmod(target, mode | stat.S_IRUSR)
    return relative
