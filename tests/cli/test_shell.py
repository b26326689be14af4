"""Workspace choice, ``folder attach``, ``exec``, completion, help and startup cost."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from cli_support import EXE, Cli, Populated

from runhistory import Experiment, Workspace

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_folder_attach_then_commands_use_the_config(fresh: Cli) -> None:
    fresh.env = {"RUNHISTORY_TRACKING_URI": ""}  # only the config file names the workspace
    project = fresh.cwd / "project"
    done = fresh("folder", "attach", "-w", "team", "-d", str(project))
    config = json.loads((project / ".runhistory" / "config.json").read_text())
    team_folder = fresh.home / "workspaces" / "team"
    assert config == {"workspace_name": "team", "tracking_uri": str(team_folder)}
    assert "attached" in done.stdout
    Experiment(Workspace(path=team_folder), "in-team").start_logging(outputs=False).complete()
    nested = project / "src" / "deep"
    nested.mkdir(parents=True)
    assert fresh.json("run", "list", "--query", "[].experiment", cwd=nested) == ["in-team"]
    # Outside the project: the default workspace under RUNHISTORY_HOME, which is empty.
    assert fresh.json("run", "list") == []


def test_workspace_option_env_and_tracking_uri(populated: Populated, tmp_path: Path) -> None:
    cli = populated.cli
    count = ["run", "list", "-o", "json", "--query", "length(@)"]
    by_env, by_folder, by_root_option, by_uri = cli.many(
        count,
        [*count, "-w", str(cli.workspace)],
        ["-w", str(cli.workspace), *count],
        [*count, "--tracking-uri", str(tmp_path / "empty")],
    )
    assert [json.loads(d.stdout) for d in (by_env, by_folder, by_root_option, by_uri)] == [
        4,
        4,
        4,
        0,
    ]
    by_name = cli("run", "list", "-w", "no-such-workspace", code=1)
    assert "no workspace named 'no-such-workspace'" in by_name.stderr
    assert "runhistory folder attach -w no-such-workspace" in by_name.stderr


def test_exec_records_an_interactive_run(fresh: Cli) -> None:
    (fresh.cwd / "helper.py").write_text("FACTOR = 2\n", encoding="utf-8")
    (fresh.cwd / "train.py").write_text(
        "import sys\nfrom azureml.core import Run\nfrom helper import FACTOR\n"
        "run = Run.get_context()\nrun.log('epochs', FACTOR * int(sys.argv[2]))\n"
        "print('args', sys.argv[1:])\n",
        encoding="utf-8",
    )
    done = fresh("exec", "train.py", "--epochs", "3")
    assert done.stdout == "args ['--epochs', '3']\n"
    (run,) = fresh.json("run", "list", "-e", "train")
    assert run["status"] == "Completed"
    assert fresh.json("run", "metrics", "-r", run["runId"]) == {"epochs": 6}
    assert run["runId"] in done.stderr


def test_exec_failing_script(fresh: Cli) -> None:
    (fresh.cwd / "broken.py").write_text(
        "def load():\n    raise ValueError('bad data')\nload()\n", encoding="utf-8"
    )
    done = fresh("exec", "broken.py", code=1)
    assert 'File "broken.py", line 3' in done.stderr
    assert "runhistory/cli" not in done.stderr  # the traceback starts at the script
    (run,) = fresh.json("run", "list", "-e", "broken")
    assert run["status"] == "Failed"
    assert run["error"]["message"] == "ValueError: bad data"
    (fresh.cwd / "quits.py").write_text("import sys\nsys.exit(3)\n", encoding="utf-8")
    fresh("exec", "quits.py", code=3)
    missing = fresh("exec", "absent.py", code=2)
    assert "'absent.py' does not exist" in missing.stderr


def test_completion_scripts(fresh: Cli) -> None:
    bash, zsh, fish = fresh.many(
        ["completion", "bash"], ["completion", "zsh"], ["completion", "fish"]
    )
    assert "_RUNHISTORY_COMPLETE=bash_complete" in bash.stdout
    assert "#compdef runhistory" in zsh.stdout
    assert "complete --no-files --command runhistory" in fish.stdout
    fresh.env = {
        "_RUNHISTORY_COMPLETE": "bash_complete",
        "COMP_WORDS": "runhistory run li",
        "COMP_CWORD": "2",
    }
    assert fresh().stdout.split() == ["plain,list"]


def test_help_lists_every_command_and_imports_nothing_heavy() -> None:
    probe = (
        "import sys\nsys.argv = ['runhistory', '--help']\n"
        "from runhistory.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'rich', 'jmespath', 'runhistory.sdk.workspace')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "HEAVY []" in done.stdout
    for command in ("folder", "run", "experiment", "model", "secret", "exec", "completion"):
        assert re.search(rf"^  {command}\s+\S", done.stdout, re.MULTILINE), command
    version = subprocess.run([str(EXE), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("runhistory, version ")


def test_every_command_is_documented() -> None:
    import click

    from runhistory.cli.main import COMMANDS, cli

    context = click.Context(cli)
    text = DOC.read_text(encoding="utf-8")
    missing = []
    for name in COMMANDS:  # the server's commands are documented with the server
        command = cli.get_command(context, name)
        subcommands = getattr(command, "commands", None)
        paths = [f"{name} {sub}" for sub in subcommands] if subcommands else [name]
        missing += [p for p in paths if f"runhistory {p}" not in text]
    assert not missing, f"commands missing from {DOC}: {missing}"


def test_exec_completes_a_run_whose_outputs_hold_a_dangling_link(fresh: Cli) -> None:
    (fresh.cwd / "train.py").write_text(
        "import os\nos.makedirs('outputs', exist_ok=True)\n"
        "open('outputs/model.txt', 'w').write('weights')\n"
        "os.symlink('missing.ckpt', 'outputs/latest.ckpt')\n",
        encoding="utf-8",
    )
    done = fresh("exec", "train.py")
    assert "skipped outputs/latest.ckpt: a link to 'missing.ckpt', which does not exist" in (
        done.stderr
    )
    (run,) = fresh.json("run", "list", "-e", "train")
    assert run["status"] == "Completed"
