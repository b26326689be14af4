"""``runhistory run update|add-property|cancel|delete|submit-script`` and bad input."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from cli_support import EXE, Cli, Populated

from runhistory import Experiment, Run, Workspace


@pytest.fixture
def running(fresh: Cli) -> str:
    """The id of a Running interactive run in the fresh workspace."""
    run = Experiment(Workspace(path=fresh.workspace), "writes").start_logging(outputs=False)
    run.add_properties({"author": "azureml-user"})
    return str(run.id)


def test_update_adds_changes_and_removes_tags(fresh: Cli, running: str) -> None:
    tags = fresh.json(
        "run",
        "update",
        "-r",
        running,
        "--add-tag",
        "quality=fantastic run",
        "--add-tag",
        "worth another look",
        "--query",
        "tags",
    )
    assert tags == {"quality": "fantastic run", "worth another look": None}
    tags = fresh.json(
        "run",
        "update",
        "-r",
        running,
        "--add-tag",
        "quality=great=run",
        "--remove-tag",
        "worth another look",
        "--query",
        "tags",
    )
    assert tags == {"quality": "great=run"}
    assert Run.get(Workspace(path=fresh.workspace), running).get_tags() == tags


def test_malformed_add_tag_is_a_usage_error(fresh: Cli, running: str) -> None:
    done = fresh("run", "update", "-r", running, "--add-tag", "=fantastic", code=2)
    assert "Invalid value for '--add-tag'" in done.stderr
    assert "expected KEY=VALUE or KEY, got '=fantastic': the key is empty" in done.stderr
    nothing = fresh("run", "update", "-r", running, code=2)
    assert "nothing to update" in nothing.stderr


def test_add_property_is_add_only(fresh: Cli, running: str) -> None:
    props = fresh.json(
        "run", "add-property", "-r", running, "seed=42", "lr=0.1", "--query", "properties"
    )
    assert props == {"author": "azureml-user", "seed": "42", "lr": "0.1"}
    done = fresh("run", "add-property", "-r", running, "author=different-user", code=1)
    assert done.stderr.count("\n") == 1
    assert "property 'author'" in done.stderr and "already 'azureml-user'" in done.stderr
    bare = fresh("run", "add-property", "-r", running, "seed", code=2)
    assert "expected KEY=VALUE, got 'seed'" in bare.stderr


def test_cancel_then_cancel_again(fresh: Cli, running: str) -> None:
    assert fresh.json("run", "cancel", "-r", running)["status"] == "Canceled"
    again = fresh("run", "cancel", "-r", running, code=1)
    assert "already Canceled" in again.stderr
    assert "Traceback" not in again.stderr


def test_delete_needs_confirmation_without_terminal(fresh: Cli, running: str) -> None:
    refused = fresh("run", "delete", "-r", running, code=2)
    assert "pass --yes" in refused.stderr
    fresh("run", "delete", "-r", running, "--yes")
    gone = fresh("run", "show", "-r", running, code=1)
    assert gone.stderr == (
        f"Error: no run with id {running!r} in workspace 'workspace'; "
        f"`runhistory run list` shows the ids\n"
    )


def test_unknown_run_id_everywhere_is_one_line_exit_1(populated: Populated) -> None:
    commands = [
        ["show"],
        ["metrics"],
        ["logs"],
        ["cancel"],
        ["download"],
        ["update", "--add-tag", "a=b"],
        ["add-property", "a=b"],
        ["delete", "--yes"],
    ]
    results = populated.cli.many(
        *(["run", c[0], "-r", "no-such-run", *c[1:]] for c in commands), code=1
    )
    for done in results:
        assert done.stderr.startswith("Error: no run with id 'no-such-run'"), done.args
        assert done.stderr.endswith("; `runhistory run list` shows the ids\n")
        assert done.stdout == ""


def test_debug_shows_the_traceback(populated: Populated) -> None:
    done = populated.cli(
        "run", "list", "--status", "Running", "--tag", "x", "-e", "no-such-experiment", code=1
    )
    assert done.stderr.startswith("Error: no experiment named 'no-such-experiment'")
    plain = populated.cli("--tracking-uri", "ftp://nowhere", "run", "list", code=1)
    assert plain.stderr.startswith("Error: unsupported tracking URI 'ftp://nowhere'")
    assert "Traceback" not in plain.stderr
    debug = populated.cli("--debug", "--tracking-uri", "ftp://nowhere", "run", "list", code=1)
    assert "Traceback (most recent call last)" in debug.stderr
    assert "ConfigurationError" in debug.stderr


def test_invalid_jmespath_is_a_usage_error(populated: Populated) -> None:
    done = populated.cli("run", "list", "--query", "[?properties.author=='x'", code=2)
    assert "Invalid value for '--query': invalid JMESPath expression" in done.stderr
    typed = populated.cli("run", "list", "--query", "[].starts_with(number, 'x')", code=1)
    assert typed.stderr.startswith("Error: --query \"[].starts_with(number, 'x')\" failed")
    assert "invalid type for value" in typed.stderr
    status = populated.cli("run", "list", "--status", "Bogus", code=2)
    assert "'Bogus' is not one of NotStarted, Starting" in status.stderr


def test_follow_streams_until_the_run_ends(fresh: Cli, running: str, tmp_path: Path) -> None:
    follower = subprocess.Popen(
        [str(EXE), "run", "logs", "-r", running, "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=fresh.environment(),
        cwd=fresh.cwd,
    )
    time.sleep(1.5)
    assert follower.poll() is None, "--follow returned while the run was still running"
    run = Run.get(Workspace(path=fresh.workspace), running)
    log = tmp_path / "std_log.txt"
    log.write_text("epoch 1\n", encoding="utf-8")
    run.upload_file("logs/std_log.txt", str(log))
    run.complete()
    out, err = follower.communicate(timeout=30)
    assert follower.returncode == 0, err
    assert out == "epoch 1\n"


def test_submit_script(fresh: Cli) -> None:
    from runhistory.sdk.run_configuration import RunConfiguration

    (fresh.cwd / "train.py").write_text(
        "import sys\nfrom azureml.core import Run\nrun = Run.get_context()\n"
        "run.log('epochs', int(sys.argv[2]))\nprint('training', sys.argv[1:])\n",
        encoding="utf-8",
    )
    RunConfiguration().save(path=str(fresh.cwd), name="sklearn")
    done = fresh(
        "run",
        "submit-script",
        "-e",
        "submitted",
        "-c",
        "sklearn",
        "--wait",
        "train.py",
        "--epochs",
        "3",
        timeout=120,
    )
    assert "training ['--epochs', '3']" in done.stdout
    assert "Status: Completed" in done.stdout
    (submitted,) = fresh.json("run", "list", "-e", "submitted")
    assert submitted["status"] == "Completed"
    assert fresh.json("run", "metrics", "-r", submitted["runId"]) == {"epochs": 3}
    started = fresh("run", "submit-script", "-e", "submitted", "train.py", "--epochs", "1")
    assert started.stdout.startswith("RunId: submitted_")
    assert "Web View: http" in started.stdout
    unknown = fresh("run", "submit-script", "-c", "nosuch", "train.py", code=1)
    assert "no run configuration 'nosuch.runconfig'" in unknown.stderr


def test_submit_script_wait_on_failure_exits_1(fresh: Cli) -> None:
    (fresh.cwd / "fails.py").write_text("import sys\nsys.exit(3)\n", encoding="utf-8")
    done = fresh("run", "submit-script", "--wait", "fails.py", code=1, timeout=120)
    assert "ended Failed" in done.stderr
    assert done.stderr.count("\n") == 1


def test_cancel_stops_a_submitted_job(fresh: Cli) -> None:
    (fresh.cwd / "slow.py").write_text("import time\ntime.sleep(120)\n", encoding="utf-8")
    started = fresh("run", "submit-script", "-e", "slow", "slow.py")
    run_id = started.stdout.split()[1]
    status = _wait_for(fresh, run_id, {"Running"})
    assert status == "Running"
    assert fresh.json("run", "cancel", "-r", run_id)["status"] in ("CancelRequested", "Canceled")
    assert _wait_for(fresh, run_id, {"Canceled"}) == "Canceled"


def _wait_for(cli: Cli, run_id: str, wanted: set[str], seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    status = ""
    while time.monotonic() < deadline:
        status = cli("run", "show", "-r", run_id, "--query", "status", "-o", "tsv").stdout.strip()
        if status in wanted:
            break
        time.sleep(0.5)
    return status


def test_usage_error_exit_2(populated: Populated) -> None:
    done = populated.cli("run", "show", code=2)
    assert "Missing option '-r' / '--run'" in done.stderr
