"""How many of the original SDK's sample patterns run unchanged: a pass-rate table.

Runs the reconstructed sample cases of ``tests/compat/cases`` (as scripts and as notebook
cells) and the sample-style notebooks of ``tests/compat/notebooks`` through the alias, on the
embedded backend and over a real ``runhistory server``, and prints passed/total per group.
Point ``PYTHONPATH`` at another checkout's ``src`` to measure that version (the server and the
jobs inherit it)::

    python benchmarks/compat_samples.py
    PYTHONPATH=/path/to/old/src python benchmarks/compat_samples.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from compat.harness import (  # noqa: E402
    ALIAS_CELL,
    Outcome,
    cells_of,
    expected_text,
    make_project,
    run_notebook,
    run_script,
)
from support.services import start_server  # noqa: E402

CASES = sorted((TESTS / "compat" / "cases").glob("item*.py"))
NOTEBOOKS = sorted((TESTS / "compat" / "notebooks").glob("*.ipynb"))


def _notebook_cells(path: Path) -> list[str]:
    import nbformat

    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    # The same alias in a form every version has (older ones lack the IPython extension).
    return [ALIAS_CELL if c.strip() == "%load_ext runhistory.compat.azureml" else c for c in cells]


def _passed(outcome: Outcome, case: Path | None) -> bool:
    expected = expected_text(case) if case is not None else []
    return outcome.ok and all(text in outcome.output for text in expected)


def _count(backend: str, runs: list[Callable[[Path], bool]]) -> int:
    passed = 0
    for run in runs:
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as folder:
            os.environ["RUNHISTORY_HOME"] = str(Path(folder) / "home")
            server = start_server(f"{folder}/server-ws", Path(folder) / "server.log") \
                if backend == "server" else None  # fmt: skip
            try:
                passed += run(make_project(Path(folder) / "project", server and server.url))
            finally:
                if server is not None:
                    server.stop()
    return passed


def main() -> None:
    """Print the table."""
    os.environ["RUNHISTORY_QUIET"] = "1"
    groups = {
        "cases as scripts": [lambda p, c=c: _passed(run_script(p, c), c) for c in CASES],
        "cases as notebook cells": [
            lambda p, c=c: _passed(run_notebook(p, cells_of(c)), c) for c in CASES
        ],
        "sample notebooks, Run All": [
            lambda p, n=n: _passed(run_notebook(p, _notebook_cells(n), alias=False), None)
            for n in NOTEBOOKS
        ],
    }
    print("| group | embedded (SQLite) | over a server |\n|---|---|---|")
    for name, runs in groups.items():
        counts = [_count(backend, runs) for backend in ("sqlite", "server")]
        print(f"| {name} | {counts[0]} / {len(runs)} | {counts[1]} / {len(runs)} |", flush=True)


if __name__ == "__main__":
    main()
