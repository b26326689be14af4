"""Running code written for the original SDK through the alias: as a script and as a notebook.

A *case* is a Python file of cells separated by ``# %%`` lines, written as the original SDK's
samples write them; its last cells check what happened with ``assert``. Lines ``# expect: TEXT``
at its top name text the run must print (notices go to stderr, job logs to stdout). A project
folder holds a ``config.json`` in the original's format (plus ``tracking_uri`` for a server).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CONFIG = {
    "subscription_id": "6560575d-fa06-4e7d-95fb-f962e74efd7a",
    "resource_group": "samples-rg",
    "workspace_name": "samples-ws",
}
# The one runhistory line of a notebook (``%load_ext runhistory.compat.azureml`` does the same).
ALIAS_CELL = "import runhistory.compat.azureml\nrunhistory.compat.azureml.install()"
TIMEOUT = 300


@dataclass
class Outcome:
    """Whether the code ran to the end, and everything it printed."""

    ok: bool
    output: str


def make_project(folder: Path, server_url: str | None) -> Path:
    """A project folder with an original-format ``config.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    config = dict(CONFIG)
    if server_url:
        config["tracking_uri"] = server_url
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def cells_of(case: Path) -> list[str]:
    """The code cells of a case file."""
    cells: list[list[str]] = []
    for line in case.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            cells.append([])
        elif cells:
            cells[-1].append(line)
    return ["\n".join(cell).strip("\n") for cell in cells if "".join(cell).strip()]


def expected_text(case: Path) -> list[str]:
    """The ``# expect:`` lines of a case file."""
    lines = case.read_text(encoding="utf-8").splitlines()
    return [line.split(":", 1)[1].strip() for line in lines if line.startswith("# expect:")]


def run_script(project: Path, case: Path) -> Outcome:
    """``python -m runhistory.compat.azureml <case>.py`` in the project folder."""
    script = project / case.name
    script.write_text("\n\n".join(cells_of(case)) + "\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "runhistory.compat.azureml", script.name],
        cwd=project, capture_output=True, text=True, timeout=TIMEOUT, check=False,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )  # fmt: skip
    return Outcome(result.returncode == 0, result.stdout + result.stderr)


def run_notebook(project: Path, cells: list[str], alias: bool = True) -> Outcome:
    """Execute the cells one by one in a Jupyter kernel whose working folder is the project."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    first = [nbformat.v4.new_code_cell(ALIAS_CELL)] if alias else []
    notebook = nbformat.v4.new_notebook(
        cells=first + [nbformat.v4.new_code_cell(cell) for cell in cells]
    )
    client = NotebookClient(
        notebook, timeout=TIMEOUT, kernel_name="python3",
        resources={"metadata": {"path": str(project)}},
    )  # fmt: skip
    try:
        client.execute()
        ok, error = True, ""
    except CellExecutionError as exc:
        ok, error = False, str(exc)
    return Outcome(ok, notebook_output(notebook) + error)


def notebook_output(notebook: object) -> str:
    """Every stream, result and error text a notebook's cells produced."""
    texts = []
    for cell in notebook.cells:  # type: ignore[attr-defined]
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            data = output.get("data", {})
            texts += [data.get("text/plain", ""), data.get("text/html", "")]
            texts += output.get("traceback", [])
    return "\n".join(texts)
