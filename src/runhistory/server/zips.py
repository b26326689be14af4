"""Unpacking uploaded zip files safely (no member escapes the target folder)."""

from __future__ import annotations

import os
import shutil
import stat
import zipfile

from runhistory.artifacts.paths import validate_artifact_name
from runhistory.errors import ValidationError


def extract_zip(archive: str, folder: str, prefix: str = "") -> list[str]:
    """Extract the members of ``archive`` under ``prefix`` into ``folder``, keeping file modes.

    Returns the extracted relative names (without ``prefix``), in archive order.

    Raises:
        UnsafePathError: a member name is absolute or contains ``..``.
        ValidationError: the upload is not a zip file.
    """
    try:
        with zipfile.ZipFile(archive) as source:
            return [_extract(source, m, folder, prefix) for m in _members(source, prefix)]
    except zipfile.BadZipFile as exc:
        raise ValidationError(f"the upload is not a valid zip file: {exc}") from None


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
