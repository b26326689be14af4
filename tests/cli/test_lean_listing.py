"""``runhistory run list`` on an embedded SQLite workspace is read by the lean reader: its
output is byte for byte the output of the normal path (SDK and SQL store) in every format and
for every filter it covers, it never imports SQLAlchemy or the SDK, and whatever it does not
cover (tag/property filters, a server, a database to upgrade or refuse) takes the normal path
with its usual messages."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_support import (
    Cli,
    Populated,
    log_status_runs,
    make_cli,
    populate,
    run_sql,
    silence_and_tie,
)

from runhistory import Experiment, Workspace

NORMAL = {"RUNHISTORY_CLI_LEAN_READER": "0"}


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> Populated:
    """The CLI tests' workspace, plus runs in every status, ties in creation time, a Running
    run that stopped beating long ago (NotResponding) and one that beats."""
    from runhistory.client.backend import close_all

    root = tmp_path_factory.mktemp("cli-lean")
    cli = make_cli(root)
    ids = populate(cli.workspace, root / "scratch")
    log_status_runs(Experiment(Workspace(path=cli.workspace), "statuses"))
    close_all()
    silence_and_tie(cli.workspace)  # n12 stopped beating long ago; n2 ties with n1
    # n13 beats: Running in the database, and Running it is.
    run_sql(cli.workspace, "UPDATE runs SET status = 'Running', end_time = NULL, "
            f"heartbeat_time = {time.time() + 3600} WHERE display_name = 'n13'")  # fmt: skip
    ids["silent"] = _one(cli.workspace, "SELECT id FROM runs WHERE display_name = 'n12'")
    ids["beating"] = _one(cli.workspace, "SELECT id FROM runs WHERE display_name = 'n13'")
    return Populated(cli, ids)


def _one(workspace: Path, sql: str) -> str:
    with sqlite3.connect(workspace / "runhistory.db") as conn:
        found = str(conn.execute(sql).fetchone()[0])
    conn.close()
    return found


LISTINGS = [
    [],
    ["-e", "statuses"],
    ["-e", "explore-runs", "--include-children"],
    ["--status", "NotResponding"],
    ["--status", "running"],
    ["--status", "Failed", "-e", "statuses"],
    ["--last", "3"],
    ["-e", "statuses", "--all"],
    ["--all", "--include-children"],
    ["-e", "old-exp"],  # an archived experiment, by name
    ["--since", "1h"],
    ["--since", "2000-01-01", "--until", "2100-01-01T00:00:00+02:00"],
    ["--until", "2000-01-01"],
    ["--query", "[?status=='Completed'].{id: runId, tags: tags}"],
]


@pytest.mark.parametrize("output", ["json", "tsv", "table", "yaml"])
@pytest.mark.parametrize("arguments", LISTINGS, ids=" ".join)
def test_output_is_that_of_the_normal_path(
    listed: Populated, arguments: list[str], output: str
) -> None:
    cli = listed.cli
    lean = cli("run", "list", *arguments, "-o", output)
    cli.env.update(NORMAL)
    try:
        normal = cli("run", "list", *arguments, "-o", output)
    finally:
        del cli.env["RUNHISTORY_CLI_LEAN_READER"]
    assert lean.stdout == normal.stdout
    assert lean.stderr == normal.stderr


def test_the_listing_shows_statuses_tags_and_not_responding_runs(listed: Populated) -> None:
    found = listed.cli.json("run", "list", "--all", "--include-children")
    statuses = {r["status"] for r in found}
    assert {"Completed", "Failed", "Canceled", "NotResponding"} <= statuses
    by_id = {r["runId"]: r for r in found}
    assert by_id[listed.ids["silent"]]["status"] == "NotResponding"
    assert by_id[listed.ids["beating"]]["status"] == "Running"
    assert any(r["tags"].get("tab\there") == "line\nbreak" for r in found)
    assert any(r["error"] for r in found)
    assert listed.ids["child"] in {r["runId"] for r in found}


LEAN_PROBE = """
import sys
from runhistory.cli.main import cli
cli.main(sys.argv[1:], prog_name="runhistory", standalone_mode=False)
heavy = sorted(m for m in sys.modules
               if m.split(".")[0] == "sqlalchemy" or m.startswith("runhistory.sdk.workspace")
               or m.startswith("runhistory.tracking.service"))
print("HEAVY:" + ",".join(heavy), file=sys.stderr)
"""


def _probe(cli: Cli, *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", LEAN_PROBE, *arguments],
        capture_output=True, text=True, env=cli.environment(), cwd=cli.cwd, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stderr.rsplit("HEAVY:", 1)[1].strip()


def test_the_lean_path_never_imports_sqlalchemy_or_the_sdk(listed: Populated) -> None:
    cli = listed.cli
    for arguments in (
        ["run", "list"],
        ["run", "list", "--last", "10", "-o", "table"],
        ["run", "list", "-e", "statuses", "--status", "NotResponding", "-o", "json"],
        ["run", "list", "--all", "--since", "3d", "-o", "tsv"],
    ):
        assert _probe(cli, *arguments) == "", arguments
    # What it does not cover takes the normal path (which imports them).
    assert "sqlalchemy" in _probe(cli, "run", "list", "--tag", "quality")


def test_tag_and_property_filters_take_the_normal_path(listed: Populated) -> None:
    found = listed.cli.json("run", "list", "--tag", "quality=great run")
    assert [r["runId"] for r in found] == [listed.ids["second"]]
    found = listed.cli.json("run", "list", "--property", "author=azureml-user")
    assert {r["runId"] for r in found} == {listed.ids["first"], listed.ids["other"]}


def test_a_database_of_a_newer_runhistory_is_refused_as_before(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    Experiment(Workspace(path=cli.workspace), "exp").start_logging(outputs=False).complete()
    from runhistory.client.backend import close_all

    close_all()
    run_sql(cli.workspace, "UPDATE alembic_version SET version_num = '9999'")
    lean = cli("run", "list", code=1)
    cli.env.update(NORMAL)
    normal = cli("run", "list", code=1)
    assert lean.stderr == normal.stderr
    assert "'9999'" in lean.stderr and "newer runhistory" in lean.stderr


def test_unknown_names_and_workspaces_keep_their_messages(listed: Populated) -> None:
    cli = listed.cli
    done = cli("run", "list", "-e", "no-such-exp", code=1)
    assert "no experiment named 'no-such-exp'" in done.stderr
    done = cli("run", "list", "-w", "no-such-workspace", code=1)
    assert "no workspace named 'no-such-workspace'" in done.stderr


def test_a_new_workspace_is_created_by_the_normal_path(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    assert cli.json("run", "list") == []
    assert (cli.workspace / "runhistory.db").exists()
    assert _probe(cli, "run", "list") == ""  # now that it exists, the lean path reads it


@pytest.mark.parametrize(
    ("since", "message"),
    [("yesterday", "invalid time 'yesterday'"), ("-3d", "invalid time '-3d'")],
)
def test_bad_times_are_named(fresh: Cli, since: str, message: str) -> None:
    done = fresh("run", "list", "--since", since, code=2)
    assert message in done.stderr and "2h" in done.stderr
    assert "Traceback" not in done.stderr


def test_since_and_until_select_by_creation_time(fresh: Cli) -> None:
    from runhistory.client.backend import close_all

    experiment = Experiment(Workspace(path=fresh.workspace), "times")
    made = [experiment.start_logging(outputs=False) for _ in range(3)]
    for run in made:
        run.complete()
    close_all()
    day = 86400.0
    for index, run in enumerate(made):  # created 3, 2 and 1 days ago
        created = time.time() - (3 - index) * day
        run_sql(fresh.workspace, f"UPDATE runs SET created_time = {created} WHERE id = '{run.id}'")
    for env in ({}, NORMAL):
        fresh.env.update(env)
        ids = [r["runId"] for r in fresh.json("run", "list", "--since", "50h")]
        assert ids == [made[2].id, made[1].id]
        ids = [r["runId"] for r in fresh.json("run", "list", "--since", "4d", "--until", "36h")]
        assert ids == [made[1].id, made[0].id]
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 2.5 * day))
        ids = [r["runId"] for r in fresh.json("run", "list", "--until", stamp)]
        assert ids == [made[0].id]
    assert json.loads(fresh("run", "list", "--since", "1m", "-o", "json").stdout) == []


def test_every_way_of_naming_the_workspace_reads_it_lean(listed: Populated, tmp_path: Path) -> None:
    """A config file (with a folder or a named workspace), -w FOLDER, -w NAME, --tracking-uri
    sqlite:///…: the lean reader reads the same workspace the normal path opens."""
    import shutil

    base = listed.cli
    home = tmp_path / "home"
    named = home / "workspaces" / "team"
    shutil.copytree(base.workspace, named)
    project = tmp_path / "project"
    (project / ".runhistory").mkdir(parents=True)
    (project / ".runhistory" / "config.json").write_text(
        json.dumps({"workspace_name": "wsname", "tracking_uri": str(base.workspace)})
    )
    by_name = tmp_path / "by-name"
    (by_name / ".runhistory").mkdir(parents=True)
    (by_name / ".runhistory" / "config.json").write_text(json.dumps({"workspace_name": "team"}))
    database = f"sqlite:///{base.workspace / 'runhistory.db'}"
    cases = [
        (project, []),
        (by_name, []),
        (tmp_path, ["-w", str(base.workspace)]),
        (tmp_path, ["-w", "team"]),
        (project, ["-w", "wsname"]),
        (tmp_path, ["--tracking-uri", database]),
    ]
    expected = base("run", "list", "--all", "-o", "json").stdout
    for cwd, arguments in cases:
        cli = Cli(home=home, workspace=base.workspace, cwd=cwd, env={"RUNHISTORY_TRACKING_URI": ""})
        assert _probe(cli, "run", "list", *arguments) == "", arguments
        lean = cli("run", "list", "--all", "-o", "json", *arguments)
        cli.env.update(NORMAL)
        normal = cli("run", "list", "--all", "-o", "json", *arguments)
        assert lean.stdout == normal.stdout == expected, arguments
