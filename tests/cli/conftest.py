"""Fixtures of the command-line tests.

Each test module that only reads gets one workspace for the whole module (``populated``);
tests that change things get their own (``fresh``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Cli, Populated, make_cli, populate


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Populated]:
    """One SDK-populated workspace shared by the read-only tests of a module."""
    root = tmp_path_factory.mktemp("cli")
    cli = make_cli(root)
    ids = populate(cli.workspace, root / "scratch")
    yield Populated(cli, ids)


@pytest.fixture
def fresh(tmp_path: Path) -> Cli:
    """A Cli over an empty workspace of its own."""
    return make_cli(tmp_path)
