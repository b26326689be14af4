"""``runhistory experiment|model|secret`` commands on SDK-populated workspaces."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from cli_support import Cli, Populated, populate

from runhistory import Workspace


def test_experiment_list_views(populated: Populated) -> None:
    active, archived, every = (
        json.loads(done.stdout)
        for done in populated.cli.many(
            ["experiment", "list", "-o", "json"],
            ["experiment", "list", "--view-type", "ArchivedOnly", "-o", "json"],
            ["experiment", "list", "--view-type", "all", "-o", "json"],
        )
    )
    assert {e["name"] for e in active} == {"explore-runs", "other-exp"}
    assert [(e["name"], e["archived"]) for e in archived] == [("old-exp", True)]
    assert {e["name"] for e in every} == {"explore-runs", "other-exp", "old-exp"}
    explore = next(e for e in active if e["name"] == "explore-runs")
    assert explore["experimentId"] == populated.ids["explore_id"]
    assert set(explore) == {
        "experimentId",
        "name",
        "archived",
        "archivedTimeUtc",
        "createdTimeUtc",
        "lastActivityTimeUtc",
        "tags",
    }


def test_experiment_list_table_and_query(populated: Populated) -> None:
    table, names = populated.cli.many(
        ["experiment", "list"],
        ["experiment", "list", "--view-type", "All", "--query", "[?archived].name", "-o", "tsv"],
    )
    assert table.stdout.splitlines()[0].split()[:3] == ["Name", "ID", "Archived"]
    assert names.stdout == "old-exp\n"


def test_experiment_archive_reactivate_delete(fresh: Cli, tmp_path: Path) -> None:
    populate(fresh.workspace, tmp_path / "scratch")
    archived = fresh.json("experiment", "archive", "other-exp")
    assert archived["archived"] is True
    names = fresh.json("experiment", "list", "--query", "[].name")
    assert "other-exp" not in names
    again = fresh("experiment", "archive", "other-exp", code=1)
    assert "no active experiment named 'other-exp'" in again.stderr
    renamed = fresh.json("experiment", "reactivate", "old-exp", "--new-name", "new-exp")
    assert (renamed["name"], renamed["archived"]) == ("new-exp", False)
    fresh("experiment", "delete", "explore-runs", "--yes")
    assert fresh.json("run", "list", "--query", "[].experiment") == ["new-exp"]
    missing = fresh("experiment", "delete", "explore-runs", "--yes", code=1)
    assert missing.stderr == (
        "Error: no experiment named 'explore-runs' in workspace 'workspace'; "
        "`runhistory experiment list --view-type All` shows the names\n"
    )


def test_model_list_show_download(populated: Populated, tmp_path: Path) -> None:
    models = populated.cli.json("model", "list")
    assert [(m["name"], m["version"], m["runId"]) for m in models] == [
        ("classifier", 1, populated.ids["first"])
    ]
    shown = populated.cli.json("model", "show", "classifier:1")
    assert shown["tags"] == {"stage": "dev"} and shown["files"] == ["model.txt"]
    table = populated.cli("model", "list").stdout
    assert table.splitlines()[0].split()[:2] == ["Name", "Version"]
    as_yaml = yaml.safe_load(populated.cli("model", "show", "classifier", "-o", "yaml").stdout)
    assert as_yaml == shown
    target = tmp_path / "models"
    path = populated.cli("model", "download", "classifier", "-o", str(target)).stdout.strip()
    assert Path(path).read_text() == "weights"
    clash = populated.cli("model", "download", "classifier", "-o", str(target), code=1)
    assert "pass --overwrite" in clash.stderr
    populated.cli("model", "download", "classifier", "-o", str(target), "--overwrite")
    missing = populated.cli("model", "show", "classifier", "--version", "9", code=1)
    assert "`runhistory model list` shows the registered models" in missing.stderr


def test_secrets_never_printed(fresh: Cli) -> None:
    fresh("secret", "set", "api-key", "--value", "from-option")
    fresh("secret", "set", "db-password", stdin="from-stdin\n")
    empty = fresh("secret", "set", "empty", stdin="", code=2)
    assert "no value on stdin" in empty.stderr
    listed = fresh("secret", "list", "-o", "json")
    assert listed.stdout.count("from-") == 0
    assert [s["name"] for s in json.loads(listed.stdout)] == ["api-key", "db-password"]
    vault = Workspace(path=fresh.workspace).get_default_keyvault()
    assert vault.get_secret("db-password") == "from-stdin"
    assert vault.get_secret("api-key") == "from-option"
    fresh("secret", "delete", "api-key", "--yes")
    assert fresh("secret", "list", "-o", "tsv").stdout == "db-password\n"
    missing = fresh("secret", "delete", "api-key", "--yes", code=1)
    assert "no secret named 'api-key'" in missing.stderr
