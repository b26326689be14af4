"""Real file-system faults for tests: a read-only view of a folder, and a tiny disk to fill.

Both use real mounts (``mount --bind`` then ``remount,ro``; ``mount -t tmpfs -o size=…``), which
need root, as CI and the development machines have. Without root a read-only folder is made
with ``chmod`` instead (a non-root process cannot write it either); a full disk cannot be made
without root, and the tests that need one say so when they skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> bool:
    if shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    return done.returncode == 0


def _umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


@contextmanager
def read_only_view(folder: Path, target: Path) -> Iterator[Path]:
    """``folder`` seen read-only at ``target`` (a read-only bind mount, or chmod without root)."""
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        if not _mount("--bind", str(folder), str(target)):
            pytest.fail(f"cannot bind-mount {folder} as root")
        if not _mount("-o", "remount,bind,ro", str(target)):
            _umount(target)
            pytest.fail(f"cannot remount {target} read-only as root")
        try:
            yield target
        finally:
            _umount(target)
        return
    target.rmdir()
    folder.rename(target)
    modes = {path: path.stat().st_mode for path in [target, *target.rglob("*")]}
    for path in modes:
        path.chmod(modes[path] & ~0o222)
    try:
        yield target
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


@contextmanager
def tiny_disk(target: Path, size: str = "2m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``target`` (root only: skips the test otherwise)."""
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)):
        pytest.skip("a full disk needs a tmpfs mount, which needs root")
    try:
        yield target
    finally:
        _umount(target)


def fill(folder: Path) -> None:
    """Write ``folder``'s file system full (the last write fails with ENOSPC)."""
    with open(folder / "filler.bin", "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError:
            pass


_WRITE_A_RUN = (
    "import sys\nfrom runhistory import Experiment, Workspace\n"
    "run = Experiment(Workspace(tracking_uri=sys.argv[1]), 'ro-exp').start_logging()\n"
    "run.log('x', 1)\nrun.complete()\n"
)


def workspace_with_a_run(folder: Path) -> None:
    """A workspace at ``folder`` with one run, written by a process that has ended (so its
    write-ahead log is folded in, as a workspace left by yesterday's work)."""
    subprocess.run([sys.executable, "-c", _WRITE_A_RUN, str(folder)], check=True, timeout=120)
