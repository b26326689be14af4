"""``runhistory run list`` over more runs than one screen: the newest 50 by default with a
line saying how to see more, ``--last N``, and ``--all`` streamed page by page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import Cli

from runhistory import Experiment, Workspace

RUNS = 1234  # more than a page of --all (1000)


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, list[str]]:
    from cli_support import make_cli

    from runhistory.client.backend import close_all

    root = tmp_path_factory.mktemp("cli-many")
    cli = make_cli(root)
    experiment = Experiment(Workspace(path=cli.workspace), "many")
    made = []
    for _ in range(RUNS):
        run = experiment.start_logging(snapshot_directory=None, outputs=False)
        run.complete()
        made.append(run.id)
    close_all()  # every queued write is stored
    return cli, list(reversed(made))


def test_the_newest_50_by_default_with_a_hint(many: tuple[Cli, list[str]]) -> None:
    cli, newest_first = many
    done = cli("run", "list", "-e", "many", "-o", "json")
    assert [r["runId"] for r in json.loads(done.stdout)] == newest_first[:50]
    assert "--last N" in done.stderr and "--all" in done.stderr
    last = cli("run", "list", "-e", "many", "--last", "7", "-o", "tsv")
    assert [line.split("\t")[0] for line in last.stdout.splitlines()] == newest_first[:7]
    assert last.stderr == ""


@pytest.mark.parametrize("output", ["json", "tsv", "table", "yaml"])
def test_all_streams_every_run_once(many: tuple[Cli, list[str]], output: str) -> None:
    cli, newest_first = many
    done = cli("run", "list", "-e", "many", "--all", "-o", output)
    if output == "json":
        assert [r["runId"] for r in json.loads(done.stdout)] == newest_first
    elif output == "yaml":
        import yaml

        assert [r["runId"] for r in yaml.safe_load(done.stdout)] == newest_first
    else:
        found = [line.split()[0] for line in done.stdout.splitlines() if line.strip()]
        if output == "table":
            found = [f for f in found if f in set(newest_first)]
        assert found == newest_first
    assert done.stderr == ""


def test_all_and_last_together_are_refused(many: tuple[Cli, list[str]], tmp_path: Path) -> None:
    cli, _ = many
    done = cli("run", "list", "--all", "--last", "3", code=2)
    assert "--last N or --all" in done.stderr
