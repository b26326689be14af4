"""Uploading a run's output folders (``./outputs``, and a job's ``./logs``) when it ends.

Files are taken by the rule of :mod:`~runhistory.artifacts.local_tree`: a link inside the
folder is followed, one pointing outside it, a dangling link or a loop is skipped. A skipped
entry never stops the run from ending: it is reported on stderr and in the run's log file
:data:`WARNINGS_FILE`, so that it can be seen later in the studio and in ``get_details()``.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["WARNINGS_FILE", "upload_output_folders"]

WARNINGS_FILE = "logs/runhistory_warnings.txt"


def upload_output_folders(backend: Any, run_id: str, folders: Mapping[str, str]) -> list[str]:
    """Upload each local folder of ``folders`` as the run's ``name/<relative path>`` files.

    Args:
        backend: the backend of the run's workspace.
        run_id: the run.
        folders: ``{name: local folder}``, for example ``{"outputs": "./outputs"}``.

    Returns:
        The warnings written (one line per skipped entry).
    """
    from runhistory.artifacts.local_tree import walk_tree  # only when a run ends

    warnings: list[str] = []
    for name, folder in folders.items():
        tree = walk_tree(folder)
        for relpath, path in tree.files:
            backend.upload_file(run_id, f"{name}/{relpath}", path)
        warnings.extend(skipped.warning(name) for skipped in tree.skipped)
    if warnings:
        _report(backend, run_id, warnings)
    return warnings


def _report(backend: Any, run_id: str, warnings: list[str]) -> None:
    for line in warnings:
        print(f"runhistory: warning: run {run_id}: {line}", file=sys.stderr, flush=True)
    text = "".join(f"warning: {line}\n" for line in warnings).encode("utf-8")
    backend.upload_file(run_id, WARNINGS_FILE, io.BytesIO(text))
