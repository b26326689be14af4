"""The YAML writer, table cells and the lazily loaded optional command group, in process."""

from __future__ import annotations

import math
import sys
import types
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from runhistory.cli.group import LazyGroup
from runhistory.cli.output import cell_text, to_yaml

AWKWARD: list[Any] = [
    "",
    "true",
    "No",
    "null",
    "~",
    "1.5",
    "007",
    "2024-05-01",
    "a: b",
    "- x",
    "#hash",
    "trailing ",
    " leading",
    "multi\nline",
    'quote"s',
    "back\\slash",
    "tab\there",
    "ünïcode 中文",
    "\x7f\x85\x9f",
    "line\u2028sep",
    "@at",
    "`tick`",
    "{braces}",
    "[list]",
    "*star",
    "&amp",
    "!bang",
    "%pct",
    "worth another look",
    "two  spaces",
    "on off",
    "Null value",
]


@pytest.mark.parametrize("value", AWKWARD)
def test_yaml_strings_read_back_unchanged(value: str) -> None:
    assert yaml.safe_load(to_yaml({value: value, "list": [value]})) == {
        value: value,
        "list": [value],
    }


def test_yaml_structures_and_numbers_round_trip() -> None:
    data = {
        "runs": [
            {"id": "a", "tags": {"k": None}, "n": 1, "ok": True, "empty": {}, "none": []},
            [1, [2, 3]],
            {},
        ],
        "floats": [0.1, 1e-05, 1e20, -2.5e-300, 3.0],
        "nested": {"deep": {"deeper": ["x"]}},
    }
    assert yaml.safe_load(to_yaml(data)) == data
    special = yaml.safe_load(to_yaml([math.inf, -math.inf, math.nan]))
    assert special[:2] == [math.inf, -math.inf] and math.isnan(special[2])
    assert yaml.safe_load(to_yaml([])) == [] and yaml.safe_load(to_yaml("x")) == "x"


def test_table_cells() -> None:
    assert cell_text({"quality": "fantastic run", "worth another look": None}) == (
        "quality=fantastic run, worth another look"
    )
    assert cell_text(list(range(20))) == "0, 1, 2, …, 19 (20 values)"
    assert cell_text("2024-05-01T12:00:00.123456Z") == "2024-05-01 12:00:00"
    assert cell_text(None) == "" and cell_text(False) == "false"


def test_optional_server_group_is_lazy(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("rh_test_server_commands")

    @click.command("server")
    def server() -> None:
        """Serve."""
        click.echo("serving")

    module.server = server  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: object())
    group = LazyGroup(
        name="root",
        commands={},
        optional_module=module.__name__,
        optional_commands={"server": "Run the server.", "ui": "Open the studio."},
    )
    runner = CliRunner()
    listing = runner.invoke(group, ["--help"])
    assert "server  Run the server." in listing.output and "ui" in listing.output
    assert runner.invoke(group, ["server"]).output == "serving\n"
    missing = runner.invoke(group, ["ui"])
    assert missing.exit_code == 2 and "No such command 'ui'" in missing.output


def test_optional_group_absent_lists_nothing() -> None:
    group = LazyGroup(
        name="root",
        optional_module="runhistory.cli.no_such_module",
        optional_commands={"server": "Run the server."},
    )
    assert group.list_commands(click.Context(group)) == []
