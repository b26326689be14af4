"""The layers call only downward: the tracking service, the stores and the artifact stores
import nothing of the SDK, the server, the CLI, the MLflow API or the compute targets."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import runhistory

PACKAGE = Path(runhistory.__file__).parent
LOWER = ("tracking", "store", "artifacts")
UPPER = (
    "sdk", "server", "cli", "mlflow_api", "compat", "widgets", "compute", "hyperdrive",
    "client", "integrations", "train",
)  # fmt: skip


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("layer", LOWER)
def test_a_lower_layer_imports_no_upper_one(layer: str) -> None:
    upward = [
        f"{path.relative_to(PACKAGE)}:{line} imports {module}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for line, module in _imported_modules(path)
        if any(
            module == f"runhistory.{up}" or module.startswith(f"runhistory.{up}.") for up in UPPER
        )
    ]
    assert upward == []
