"""Each gap of issue 12, as the original SDK's samples write it, run unchanged through the alias.

Every case runs twice on each backend (embedded SQLite; a real server subprocess): as a script
(``python -m runhistory.compat.azureml case.py``) and cell by cell in a Jupyter kernel.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compat.harness import Outcome, cells_of, expected_text, run_notebook, run_script

CASES = sorted((Path(__file__).parent / "cases").glob("item*.py"))


def _check(outcome: Outcome, case: Path) -> None:
    assert outcome.ok, outcome.output[-6000:]
    for text in expected_text(case):
        assert text in outcome.output, f"{text!r} not printed:\n{outcome.output[-4000:]}"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case_as_script(project: Path, case: Path) -> None:
    _check(run_script(project, case), case)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case_as_notebook(project: Path, case: Path) -> None:
    _check(run_notebook(project, cells_of(case)), case)
