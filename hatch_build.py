"""Build hook: every wheel and sdist of runhistory contains the built studio.

- ``python -m build`` makes the sdist first: the studio is built from ``frontend/`` with npm
  and the result (``src/runhistory/server/static``) goes into the sdist next to the sources.
- The wheel built from that sdist takes the studio as it is (no npm needed there).
- A wheel built straight from a source checkout builds the studio too.
- Without npm the build fails with a message saying what to do, unless
  ``RUNHISTORY_SKIP_STUDIO=1`` asks for a package without the studio.
- Editable installs (``pip install -e .``) never build it: ``make studio`` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

STATIC = Path("src/runhistory/server/static")


class StudioBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Build the studio (frontend/) into the package before the files are collected."""

    PLUGIN_NAME = "runhistory-studio"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        index = root / STATIC / "index.html"
        if os.environ.get("RUNHISTORY_SKIP_STUDIO") == "1":
            self.app.display_warning("RUNHISTORY_SKIP_STUDIO=1: building without the studio")
            return
        from_sdist = (root / "PKG-INFO").is_file()
        if from_sdist and index.is_file():
            return  # the sdist carries the studio built when it was made
        if not (root / "frontend" / "package.json").is_file():
            raise RuntimeError(_missing(f"neither a built studio ({index}) nor its sources"))
        _build_studio(root / "frontend", self.app)
        if not index.is_file():
            raise RuntimeError(_missing(f"npm run build made no {index}"))


def _build_studio(frontend: Path, app: Any) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(_missing("npm is not installed"))
    app.display_info("building the studio (frontend/) with npm")
    if not (frontend / "node_modules").is_dir():
        _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], frontend)
    _run([npm, "run", "build"], frontend)


def _run(command: list[str], folder: Path) -> None:
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-2000:]
        raise RuntimeError(f"`{' '.join(command)}` failed in {folder}:\n{output}")


def _missing(reason: str) -> str:
    return (
        f"cannot build runhistory's studio: {reason}. Install Node.js (with npm) and build "
        "again, or set RUNHISTORY_SKIP_STUDIO=1 to build a package without the studio (its "
        "server then answers / with a page saying so; the REST API works)."
    )
