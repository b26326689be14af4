"""``runhistory run list|show|metrics|logs|download`` on an SDK-populated workspace."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from cli_support import Populated

RUN_KEYS = {
    "runId",
    "experiment",
    "number",
    "displayName",
    "status",
    "type",
    "parentRunId",
    "startTimeUtc",
    "endTimeUtc",
    "tags",
    "properties",
    "target",
    "submittedBy",
    "error",
}


def test_run_list_json_has_stable_keys_newest_first(populated: Populated) -> None:
    runs = populated.cli.json("run", "list")
    assert all(set(r) == RUN_KEYS for r in runs)
    ids = [r["runId"] for r in runs]
    assert ids[0] == populated.ids["other"]
    assert populated.ids["child"] not in ids  # children only with --include-children
    assert ids.index(populated.ids["second"]) < ids.index(populated.ids["first"])
    first = next(r for r in runs if r["runId"] == populated.ids["first"])
    assert first["tags"] == {"quality": "fantastic run", "worth another look": None}
    assert first["properties"] == {"author": "azureml-user"}
    assert first["status"] == "Completed" and first["displayName"] == "first"


def test_run_list_filters(populated: Populated) -> None:
    cli, ids = populated.cli, populated.ids
    listed = cli.json("run", "list", "--experiment-name", "explore-runs")
    assert {r["experiment"] for r in listed} == {"explore-runs"}
    failed = cli.json("run", "list", "--status", "failed")
    assert [r["runId"] for r in failed] == [ids["second"]]
    tagged = cli.json("run", "list", "--tag", "quality=fantastic run")
    assert [r["runId"] for r in tagged] == [ids["first"]]
    has_key = cli.json("run", "list", "--tag", "quality", "--property", "author=someone-else")
    assert [r["runId"] for r in has_key] == [ids["second"]]
    with_children = cli.json("run", "list", "-e", "explore-runs", "--include-children")
    child = next(r for r in with_children if r["runId"] == ids["child"])
    assert child["parentRunId"] == ids["parent"]
    assert len(cli.json("run", "list", "--last", "2")) == 2


def test_seed_query_author_property(populated: Populated) -> None:
    runs = populated.cli.json(
        "run",
        "list",
        "--experiment-name",
        "explore-runs",
        "--query",
        "[?properties.author=='azureml-user']",
    )
    assert [r["runId"] for r in runs] == [populated.ids["first"]]


def test_seed_query_tag_key_prefix(populated: Populated) -> None:
    query = "[?tags.keys(@)[?starts_with(@, 'worth another look')]]"
    runs = populated.cli.json("run", "list", "--query", query)
    assert [r["runId"] for r in runs] == [populated.ids["other"], populated.ids["first"]]
    in_experiment = populated.cli.json(
        "run", "list", "--experiment-name", "explore-runs", "--query", query
    )
    assert [r["runId"] for r in in_experiment] == [populated.ids["first"]]


def test_seed_query_property_and_tag(populated: Populated) -> None:
    runs = populated.cli.json(
        "run",
        "list",
        "--query",
        "[?properties.author=='azureml-user' && tags.quality=='fantastic run'].runId",
    )
    assert runs == [populated.ids["first"]]


def test_run_list_table_has_headers_and_rows(populated: Populated) -> None:
    out = populated.cli("run", "list", "-e", "explore-runs").stdout
    header = out.splitlines()[0]
    for column in ("Run ID", "Experiment", "Status", "Started (UTC)", "Tags"):
        assert column in header
    assert populated.ids["first"] in out
    assert "quality=fantastic run, worth another look" in out
    assert not any(line != line.rstrip() for line in out.splitlines())


def test_run_list_table_after_query_uses_result_keys(populated: Populated) -> None:
    out = populated.cli(
        "run", "list", "--query", "[].{id: runId, state: status}", "-o", "table"
    ).stdout
    assert out.split()[:2] == ["id", "state"]


def test_run_list_tsv(populated: Populated) -> None:
    out = populated.cli("run", "list", "-e", "explore-runs", "-o", "tsv").stdout
    rows = [line.split("\t") for line in out.splitlines()]
    by_id = {row[0]: row for row in rows}
    first = by_id[populated.ids["first"]]
    assert first[1:5] == ["explore-runs", "1", "first", "Completed"]
    assert json.loads(first[-1]) == {"quality": "fantastic run", "worth another look": None}
    ids = populated.cli("run", "list", "-o", "tsv", "--query", "[].runId").stdout.split()
    assert populated.ids["other"] == ids[0]


def test_run_list_yaml_round_trips(populated: Populated) -> None:
    as_yaml = yaml.safe_load(populated.cli("run", "list", "-o", "yaml").stdout)
    assert as_yaml == populated.cli.json("run", "list")


def test_run_show(populated: Populated) -> None:
    shown = populated.cli.json("run", "show", "-r", populated.ids["second"])
    assert set(shown) >= RUN_KEYS
    assert shown["status"] == "Failed"
    assert shown["error"]["message"] == "boom"
    assert shown["portalUrl"].endswith(f"/runs/{populated.ids['second']}")
    table = populated.cli("run", "show", "-r", populated.ids["second"]).stdout
    assert table.split()[:2] == ["Field", "Value"]
    assert "boom" in table
    status = populated.cli(
        "run", "show", "-r", populated.ids["first"], "--query", "status", "-o", "tsv"
    ).stdout
    assert status == "Completed\n"


def test_run_metrics(populated: Populated) -> None:
    metrics = populated.cli.json("run", "metrics", "-r", populated.ids["first"])
    assert metrics == {"accuracy": 0.93, "loss": [0.5, 0.3, 0.2]}
    one = populated.cli.json("run", "metrics", "-r", populated.ids["first"], "--name", "loss")
    assert one == {"loss": [0.5, 0.3, 0.2]}
    table = populated.cli("run", "metrics", "-r", populated.ids["first"]).stdout
    assert table.split()[:2] == ["Metric", "Value"]
    assert "0.5, 0.3, 0.2" in table


def test_run_logs(populated: Populated) -> None:
    out = populated.cli("run", "logs", "-r", populated.ids["first"]).stdout
    assert out == "hello from the run\nsecond line\n"
    followed = populated.cli("run", "logs", "-r", populated.ids["first"], "--follow").stdout
    assert followed == out  # a finished run: print everything and stop


def test_run_logs_missing_names_the_way_out(populated: Populated) -> None:
    done = populated.cli("run", "logs", "-r", populated.ids["second"], code=1)
    assert "has no logs/std_log.txt" in done.stderr
    assert "runhistory run download" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_download(populated: Populated, tmp_path: Path) -> None:
    target = tmp_path / "files"
    done = populated.cli("run", "download", "-r", populated.ids["first"], "-o", str(target))
    assert (target / "logs" / "std_log.txt").read_text() == "hello from the run\nsecond line\n"
    assert (target / "outputs" / "model.txt").read_text() == "weights"
    assert "downloaded 2 file(s)" in done.stderr
    only = tmp_path / "only"
    populated.cli(
        "run", "download", "-r", populated.ids["first"], "--prefix", "outputs/", "-o", str(only)
    )
    assert [p.name for p in only.rglob("*") if p.is_file()] == ["model.txt"]
    empty = populated.cli(
        "run",
        "download",
        "-r",
        populated.ids["first"],
        "--prefix",
        "nope/",
        "-o",
        str(only),
        code=1,
    )
    assert "has no files under 'nope/'" in empty.stderr
