"""``runhistory run list --last N`` against a real ``runhistory server`` is read by the lean
HTTP path: its output is byte for byte the output of the normal path (SDK and remote backend)
in every format and for every filter it covers, it imports neither the SDK nor httpx, and what
it does not cover (``--all``, tag/property filters, a proxy) or cannot answer (a refused
token, a server that is down, an unknown experiment, a limit beyond the server's) takes the
normal path, with the same messages and exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_support import EXE, Cli, log_status_runs, make_cli, populate, silence_and_tie

from runhistory import Experiment, Workspace
from support.services import ServerProcess, free_port, start_server

NORMAL = {"RUNHISTORY_CLI_LEAN_READER": "0"}
HEAVY_PREFIXES = ("httpx", "sqlalchemy", "runhistory.sdk.workspace", "runhistory.client.remote")


@dataclass
class Served:
    """A workspace served by a real server with ``--auth``, and a Cli pointed at it."""

    cli: Cli
    server: ServerProcess
    token: str
    ids: dict[str, str]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The CLI tests' workspace, plus runs in every status, ties in creation time, a Running
    run that stopped beating long ago (NotResponding), tags whose keys look like the wire's
    markers, and an experiment with more runs than a default listing shows; served by
    ``runhistory server --auth`` with one token."""
    from runhistory.client.backend import close_all

    root = tmp_path_factory.mktemp("cli-lean-http")
    cli = make_cli(root)
    ids = populate(cli.workspace, root / "scratch")
    workspace = Workspace(path=cli.workspace)
    log_status_runs(Experiment(workspace, "statuses"), {"$int": "7"}, {"$float": "inf"})
    many = Experiment(workspace, "many")
    for number in range(55):
        many.start_logging(outputs=False, display_name=f"m{number}").complete()
    close_all()
    silence_and_tie(cli.workspace)
    made = subprocess.run(
        [str(EXE), "token", "create", "--name", "cli", "--backend-store-uri", str(cli.workspace)],
        capture_output=True, text=True, env=cli.environment(), check=True, timeout=120,
    )  # fmt: skip
    token = made.stdout.strip()
    server = start_server(
        str(cli.workspace), root / "server.log", extra_args=["--auth"],
        env={"RUNHISTORY_HOME": str(root / "server-home")},
    )  # fmt: skip
    cli.env.update(
        RUNHISTORY_TRACKING_URI=server.url,
        RUNHISTORY_TRACKING_TOKEN=token,
        RUNHISTORY_HTTP_RETRY_SECONDS="0.5",
    )
    try:
        yield Served(cli, server, token, ids)
    finally:
        server.stop()


def _both(cli: Cli, *args: str, code: int = 0) -> tuple[subprocess.CompletedProcess[str], ...]:
    """The command by the lean path (when it answers) and by the normal path."""
    lean = cli(*args, code=code)
    saved = dict(cli.env)
    cli.env.update(NORMAL)
    try:
        normal = cli(*args, code=code)
    finally:
        cli.env.clear()
        cli.env.update(saved)
    return lean, normal


LEAN_PROBE = """
import sys
from runhistory.cli.main import cli
try:
    cli.main(sys.argv[2:], prog_name="runhistory", standalone_mode=False)
finally:
    prefixes = tuple(sys.argv[1].split(","))
    heavy = sorted(m for m in sys.modules if m.startswith(prefixes))
    print("HEAVY:" + ",".join(heavy), file=sys.stderr)
"""


def _probe(cli: Cli, *arguments: str) -> str:
    """The heavy modules ``runhistory ARGUMENTS`` imported."""
    done = subprocess.run(
        [sys.executable, "-c", LEAN_PROBE, ",".join(HEAVY_PREFIXES), *arguments],
        capture_output=True, text=True, env=cli.environment(), cwd=cli.cwd, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stderr.rsplit("HEAVY:", 1)[1].strip()


LISTINGS = [
    [],  # every active experiment, merged; "many" has more runs than the 50 shown
    ["-e", "statuses"],
    ["-e", "explore-runs", "--include-children"],
    ["--status", "NotResponding"],
    ["--status", "running", "--include-children"],
    ["--status", "Failed", "-e", "statuses"],
    ["--last", "3"],
    ["-e", "many", "--last", "55"],
    ["-e", "old-exp"],  # an archived experiment, by name
    ["--since", "2000-01-01", "--until", "2100-01-01T00:00:00+02:00"],
    ["--until", "2000-01-01"],
    ["--query", "[?status=='Completed'].{id: runId, tags: tags}"],
]


@pytest.mark.parametrize("output", ["json", "tsv", "table", "yaml"])
@pytest.mark.parametrize("arguments", LISTINGS, ids=" ".join)
def test_output_is_that_of_the_normal_path(
    served: Served, arguments: list[str], output: str
) -> None:
    lean, normal = _both(served.cli, "run", "list", *arguments, "-o", output)
    assert lean.stdout == normal.stdout
    assert lean.stderr == normal.stderr


def test_the_listing_is_the_servers(served: Served) -> None:
    found = served.cli.json("run", "list", "--last", "100", "--include-children")
    statuses = {r["status"] for r in found}
    assert {"Completed", "Failed", "Canceled", "NotResponding"} <= statuses
    assert any(r["tags"].get("$int") == "7" and r["properties"]["$float"] == "inf" for r in found)
    assert any(r["tags"].get("tab\there") == "line\nbreak" for r in found)
    assert served.ids["child"] in {r["runId"] for r in found}
    by_id = served.cli.json("run", "list", "-e", served.ids["explore_id"])
    assert {r["experiment"] for r in by_id} == {"explore-runs"}
    hint = served.cli("run", "list", "-e", "many", "-o", "tsv")
    assert len(hint.stdout.splitlines()) == 50
    assert "the 50 newest runs" in hint.stderr


def test_the_lean_path_imports_neither_httpx_nor_the_sdk(served: Served) -> None:
    cli = served.cli
    for arguments in (
        ["run", "list"],
        ["run", "list", "--last", "10", "-o", "table"],
        ["run", "list", "-e", "statuses", "--status", "NotResponding", "-o", "json"],
        ["run", "list", "--since", "3d", "-o", "tsv"],
    ):
        assert _probe(cli, *arguments) == "", arguments


@pytest.mark.parametrize(
    "arguments",
    [["--all"], ["--tag", "quality"], ["--property", "author=azureml-user"]],
    ids=" ".join,
)
def test_what_the_lean_path_does_not_cover_takes_the_normal_path(
    served: Served, arguments: list[str]
) -> None:
    lean, normal = _both(served.cli, "run", "list", *arguments, "-o", "json")
    assert lean.stdout == normal.stdout and lean.stderr == normal.stderr
    assert json.loads(lean.stdout)
    assert "httpx" in _probe(served.cli, "run", "list", *arguments).split(",")


def test_a_proxy_in_the_environment_takes_the_normal_path(served: Served) -> None:
    cli = served.cli
    cli.env.update(HTTP_PROXY="http://127.0.0.1:9", NO_PROXY="127.0.0.1")
    try:
        lean, normal = _both(cli, "run", "list", "-o", "tsv")
        assert "httpx" in _probe(cli, "run", "list").split(",")
    finally:
        del cli.env["HTTP_PROXY"], cli.env["NO_PROXY"]
    assert lean.stdout == normal.stdout and lean.stderr == normal.stderr


def test_a_refused_token_has_the_normal_message_and_is_never_printed(served: Served) -> None:
    cli = served.cli
    wrong = "rht_" + "x" * 40
    for token in ("", wrong):
        cli.env["RUNHISTORY_TRACKING_TOKEN"] = token
        try:
            lean, normal = _both(cli, "run", "list", "--last", "10", code=1)
        finally:
            cli.env["RUNHISTORY_TRACKING_TOKEN"] = served.token
        assert lean.stdout == normal.stdout == ""
        assert lean.stderr == normal.stderr
        assert "set RUNHISTORY_TRACKING_TOKEN to a valid token" in lean.stderr
        assert wrong not in lean.stderr and served.token not in lean.stderr
        assert "Traceback" not in lean.stderr


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("down", "cannot reach the runhistory server"),
        ("https", "cannot reach the runhistory server"),  # https: the normal path's
        ("prefix", "no such route: GET /elsewhere/api/v1/experiments"),
    ],
)
def test_servers_that_do_not_answer_have_the_normal_message(
    served: Served, where: str, message: str
) -> None:
    cli = served.cli
    url = {
        "down": f"http://127.0.0.1:{free_port()}",
        "https": served.server.url.replace("http://", "https://"),
        "prefix": f"{served.server.url}/elsewhere",
    }[where]
    cli.env["RUNHISTORY_TRACKING_URI"] = url
    try:
        lean, normal = _both(cli, "run", "list", "-o", "json", code=1)
    finally:
        cli.env["RUNHISTORY_TRACKING_URI"] = served.server.url
    assert lean.stdout == normal.stdout == ""
    assert lean.stderr == normal.stderr
    assert message in lean.stderr
    assert served.token not in lean.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-e", "no-such-exp"], "no experiment named 'no-such-exp'"),
        (["--last", "1000000"], "limit"),  # beyond the server's page limit
    ],
    ids=["unknown experiment", "limit beyond the server's"],
)
def test_refusals_have_the_normal_message(
    served: Served, arguments: list[str], message: str
) -> None:
    lean, normal = _both(served.cli, "run", "list", *arguments, code=1)
    assert lean.stderr == normal.stderr
    assert message in lean.stderr


def test_the_token_of_a_config_file_is_sent(served: Served, tmp_path: Path) -> None:
    """A config file naming the server and its token (no token in the environment): by the
    nearest config file and by ``-w NAME`` naming it, the lean path reads the server."""
    project = tmp_path / "project"
    (project / ".runhistory").mkdir(parents=True)
    config = {"workspace_name": "team", "tracking_uri": served.server.url, "token": served.token}
    (project / ".runhistory" / "config.json").write_text(json.dumps(config))
    cli = Cli(home=tmp_path / "home", workspace=tmp_path / "unused", cwd=project,
              env={"RUNHISTORY_TRACKING_URI": "", "RUNHISTORY_TRACKING_TOKEN": ""})  # fmt: skip
    expected = served.cli("run", "list", "-o", "json").stdout
    for arguments in ([], ["-w", "team"]):
        assert _probe(cli, "run", "list", *arguments) == "", arguments
        lean, normal = _both(cli, "run", "list", "-o", "json", *arguments)
        assert lean.stdout == normal.stdout == expected, arguments
