"""Sample-style notebooks, executed cell by cell in a Jupyter kernel on every backend.

Each notebook is written the way the original SDK's public samples are (version print,
``Workspace.from_config()``, experiments, every kind of logging, submissions to ``local``,
environments, models) and ends with a cell of checks that read back what it logged. Its only
runhistory line is ``%load_ext runhistory.compat.azureml``. Notebooks 13-19 follow named public
samples call by call (their first cell says which, and which cloud-only cell was replaced).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from compat.harness import run_notebook

NOTEBOOKS = sorted((Path(__file__).parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_runs_to_the_end(project: Path, notebook: Path) -> None:
    cells = [c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    outcome = run_notebook(project, cells, alias=False)
    assert outcome.ok, outcome.output[-6000:]
