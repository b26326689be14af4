"""``runhistory model list`` and ``experiment list`` over more than a screen: the first 50 by
default with a line on stderr saying how to see more, ``--last N``, and ``--all`` streamed."""

from __future__ import annotations

import json

import pytest
from cli_support import Cli, make_cli

from runhistory import Experiment, Workspace

MODELS = 64  # 32 versions of two models
EXPERIMENTS = 57


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    from runhistory.client.backend import close_all

    root = tmp_path_factory.mktemp("cli-limits")
    cli = make_cli(root)
    workspace = Workspace(path=cli.workspace)
    backend = workspace._connection.backend
    weights = root / "weights.bin"
    weights.write_bytes(b"w")
    for i in range(MODELS):
        backend.register_local_model(
            f"net-{'ab'[i % 2]}", ["weights.bin"], [str(weights)],
            tags={"stage": "prod" if i % 4 == 0 else "dev"},
        )  # fmt: skip
    for i in range(EXPERIMENTS):
        Experiment(workspace, f"exp-{i:03d}")
    close_all()
    return cli


def _versions(records: list[dict[str, object]]) -> list[str]:
    return [f"{r['name']}:{r['version']}" for r in records]


EVERY_MODEL = [f"net-a:{v}" for v in range(32, 0, -1)] + [f"net-b:{v}" for v in range(32, 0, -1)]


def test_model_list_shows_the_first_50_with_a_hint(filled: Cli) -> None:
    done = filled("model", "list", "-o", "json")
    assert _versions(json.loads(done.stdout)) == EVERY_MODEL[:50]
    assert "--last N" in done.stderr and "--all" in done.stderr
    last = filled("model", "list", "--last", "3", "-o", "json")
    assert _versions(json.loads(last.stdout)) == EVERY_MODEL[:3] and last.stderr == ""
    latest = filled("model", "list", "--latest", "-o", "json")
    assert _versions(json.loads(latest.stdout)) == ["net-a:32", "net-b:32"]
    assert latest.stderr == ""
    prod = filled("model", "list", "--tag", "stage=prod", "--last", "100", "-o", "json")
    assert len(json.loads(prod.stdout)) == MODELS // 4


@pytest.mark.parametrize("output", ["json", "tsv", "table"])
def test_model_list_all_streams_every_version(filled: Cli, output: str) -> None:
    done = filled("model", "list", "--all", "-o", output)
    if output == "json":
        assert _versions(json.loads(done.stdout)) == EVERY_MODEL
    else:
        rows = [line.split() for line in done.stdout.splitlines() if line.startswith("net-")]
        assert [f"{r[0]}:{r[1]}" for r in rows] == EVERY_MODEL
    assert done.stderr == ""


def test_experiment_list_shows_the_first_50_with_a_hint(filled: Cli) -> None:
    names = [f"exp-{i:03d}" for i in range(EXPERIMENTS)]
    done = filled("experiment", "list", "-o", "json")
    assert [e["name"] for e in json.loads(done.stdout)] == names[:50]
    assert "--last N" in done.stderr and "--all" in done.stderr
    last = filled("experiment", "list", "--last", "5", "-o", "tsv")
    assert [line.split("\t")[0] for line in last.stdout.splitlines()] == names[:5]
    every = filled("experiment", "list", "--all", "-o", "json")
    assert [e["name"] for e in json.loads(every.stdout)] == names
    assert every.stderr == "" and last.stderr == ""


@pytest.mark.parametrize("group", ["model", "experiment"])
def test_last_and_all_together_are_refused(filled: Cli, group: str) -> None:
    done = filled(group, "list", "--all", "--last", "3", code=2)
    assert "--last N or --all" in done.stderr
