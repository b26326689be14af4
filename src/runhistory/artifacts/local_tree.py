"""Walking a local folder to upload or snapshot it: which files are taken, and which links.

One rule for ``./outputs``, ``upload_folder`` and snapshot folders:

* regular files are taken;
* a symbolic link whose target lies inside the folder is followed: a link to a file is stored
  as the file it points to (under the link's own name), a link to a folder is walked like a
  folder;
* a link whose target lies outside the folder is skipped: following it would copy files from
  elsewhere on the machine (a home folder, ``/etc``) into the run;
* a dangling link, a link to one of its own parent folders (a loop), a folder that cannot be
  read, and anything that is neither a file nor a folder (sockets, pipes, devices) are skipped.

Nothing skipped stops the walk: each skip is returned with its reason, for the caller to
report as a warning.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["LocalTree", "Skipped", "walk_tree"]

Ignored = Callable[[str, bool], bool]
"""``ignored(relpath, is_folder)``: whether a snapshot's ignore file leaves the entry out."""


@dataclass(frozen=True)
class Skipped:
    """An entry left out of a walk, and why."""

    relpath: str
    reason: str

    def warning(self, where: str) -> str:
        """One line for a log: ``skipped outputs/x: a link to …``."""
        shown = f"{where}/{self.relpath}" if where else self.relpath
        return f"skipped {shown}: {self.reason}"


@dataclass
class LocalTree:
    """The files a walk takes, as sorted ``(relative POSIX path, path to read)``, and the
    entries it skipped."""

    files: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def walk_tree(folder: str, ignored: Ignored | None = None) -> LocalTree:
    """Walk ``folder`` by the rule above; ``.git`` folders are never entered.

    Args:
        folder: the folder to walk (a link to a folder is fine: its target is the root).
        ignored: leaves out entries a snapshot's ignore file names.
    """
    root = os.path.realpath(folder)
    tree = LocalTree()
    _walk(_Walk(root, ignored, tree), root, "", frozenset({root}))
    tree.files.sort()
    tree.skipped.sort(key=lambda skipped: skipped.relpath)
    return tree


@dataclass
class _Walk:
    root: str
    ignored: Ignored | None
    tree: LocalTree

    def inside(self, target: str) -> bool:
        return target == self.root or target.startswith(self.root + os.sep)

    def skip(self, relpath: str, reason: str) -> None:
        self.tree.skipped.append(Skipped(relpath, reason))


def _walk(walk: _Walk, folder: str, stem: str, parents: frozenset[str]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        walk.skip(stem.rstrip("/") or ".", f"the folder cannot be read ({exc.strerror})")
        return
    for entry in entries:
        relpath = stem + entry.name
        if entry.name == ".git":
            continue
        if entry.is_symlink():
            _link(walk, entry, relpath, parents)
        elif entry.is_dir(follow_symlinks=False):
            _folder(walk, entry.path, relpath, parents)
        elif entry.is_file(follow_symlinks=False):
            _file(walk, relpath, entry.path)
        else:
            walk.skip(relpath, "not a regular file or folder (a socket, pipe or device)")


def _folder(walk: _Walk, path: str, relpath: str, parents: frozenset[str]) -> None:
    if walk.ignored is not None and walk.ignored(relpath, True):
        return
    real = os.path.realpath(path)
    _walk(walk, real, relpath + "/", parents | {real})


def _file(walk: _Walk, relpath: str, path: str) -> None:
    if walk.ignored is None or not walk.ignored(relpath, False):
        walk.tree.files.append((relpath, path))


def _link(walk: _Walk, entry: os.DirEntry[str], relpath: str, parents: frozenset[str]) -> None:
    pointed = os.readlink(entry.path)
    target = os.path.realpath(entry.path)
    try:
        mode = os.stat(target).st_mode
    except OSError:
        walk.skip(relpath, f"a link to {pointed!r}, which does not exist")
        return
    if not walk.inside(target):
        walk.skip(relpath, f"a link to {pointed!r}, outside the folder; links are followed "
                           "only inside the folder")  # fmt: skip
    elif stat.S_ISDIR(mode) and target in parents:
        walk.skip(relpath, f"a link to {pointed!r}, one of its own parent folders (a loop)")
    elif stat.S_ISDIR(mode):
        _folder(walk, target, relpath, parents)
    elif stat.S_ISREG(mode):
        _file(walk, relpath, target)
    else:
        walk.skip(relpath, f"a link to {pointed!r}, which is not a regular file or folder")
