"""Helpers of the command-line tests: the real console script bound to a workspace.

The command runs in a subprocess with ``RUNHISTORY_HOME`` and ``RUNHISTORY_TRACKING_URI``
pointing at the workspace, from a working directory without any config file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXE = Path(sys.executable).with_name("runhistory")


@dataclass
class Cli:
    """The console script bound to one workspace: ``cli("run", "list")``."""

    home: Path
    workspace: Path
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNHISTORY_")}
        env.update(
            RUNHISTORY_HOME=str(self.home),
            RUNHISTORY_TRACKING_URI=str(self.workspace),
            RUNHISTORY_QUIET="1",
            COLUMNS="200",
        )
        env.update(self.env)
        return {k: v for k, v in env.items() if v != ""}

    def __call__(
        self,
        *args: str,
        code: int = 0,
        stdin: str | None = None,
        cwd: Path | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``runhistory ARGS``; assert the exit status is ``code``."""
        done = subprocess.run(
            [str(EXE), *args],
            capture_output=True,
            text=True,
            env=self.environment(),
            cwd=cwd or self.cwd,
            input=stdin if stdin is not None else "",
            timeout=timeout,
        )
        assert done.returncode == code, (
            f"runhistory {' '.join(args)} exited {done.returncode}, expected {code}\n"
            f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        )
        return done

    def many(self, *commands: list[str], code: int = 0) -> list[subprocess.CompletedProcess[str]]:
        """Run several commands at once (they only read); assert each exits ``code``."""
        started = [
            (
                args,
                subprocess.Popen(
                    [str(EXE), *args],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    stdin=subprocess.DEVNULL,
                    text=True,
                    env=self.environment(),
                    cwd=self.cwd,
                ),
            )
            for args in commands
        ]
        done = []
        for args, process in started:
            out, err = process.communicate(timeout=60)
            assert process.returncode == code, f"runhistory {' '.join(args)}: {err}"
            done.append(subprocess.CompletedProcess(args, process.returncode, out, err))
        return done

    def json(self, *args: str, cwd: Path | None = None) -> Any:
        """Run a command with ``-o json`` and parse its output."""
        return json.loads(self(*args, "-o", "json", cwd=cwd).stdout)


def make_cli(root: Path) -> Cli:
    """A Cli over an empty workspace folder under ``root``."""
    cwd = root / "cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    return Cli(home=root / "home", workspace=root / "workspace", cwd=cwd)


@dataclass
class Populated:
    """The ids of what :func:`populate` created."""

    cli: Cli
    ids: dict[str, str]


def populate(workspace_folder: Path, scratch: Path) -> dict[str, str]:
    """Fill a workspace through the SDK: the seed's runs, a child run, an archived experiment,
    a model and a secret. Returns the ids by role."""
    from runhistory import Experiment, Workspace
    from runhistory.client.backend import close_all

    ws = Workspace(path=workspace_folder)
    exp = Experiment(ws, "explore-runs")
    scratch.mkdir(parents=True, exist_ok=True)
    log = scratch / "std_log.txt"
    log.write_text("hello from the run\nsecond line\n", encoding="utf-8")
    outputs = scratch / "outputs"
    outputs.mkdir(parents=True, exist_ok=True)
    (outputs / "model.txt").write_text("weights", encoding="utf-8")

    first = exp.start_logging(display_name="first", outputs=str(outputs))
    first.log("accuracy", 0.93)
    for loss in (0.5, 0.3, 0.2):
        first.log("loss", loss)
    first.add_properties({"author": "azureml-user"})
    first.tag("quality", "fantastic run")
    first.tag("worth another look")
    first.upload_file("logs/std_log.txt", str(log))
    first.complete()
    first.register_model("classifier", "outputs/model.txt", tags={"stage": "dev"})

    second = exp.start_logging(outputs=False)
    second.add_properties({"author": "someone-else"})
    second.tag("quality", "great run")
    second.fail(error_details="boom")

    with exp.start_logging(outputs=False) as parent, parent.child_run("child") as child:
        child.log("child-metric", 1)

    other = Experiment(ws, "other-exp").start_logging(outputs=False)
    other.tag("worth another look later")
    other.add_properties({"author": "azureml-user"})
    other.complete()

    old = Experiment(ws, "old-exp")
    old.start_logging(outputs=False).complete()
    old.archive()

    ws.get_default_keyvault().set_secret("db-password", "s3cr3t-value")
    ids = {
        "first": first.id,
        "second": second.id,
        "parent": parent.id,
        "child": child.id,
        "other": other.id,
        "explore_id": exp.id,
    }
    close_all()
    return ids


def log_status_runs(
    experiment: Any,
    tags: dict[str, str | None] | None = None,
    properties: dict[str, str] | None = None,
) -> None:
    """Runs ``n0`` … ``n13`` of ``experiment``, completed, canceled and failed in turn, with tags
    and properties a listing must print as they are (a tab, a line break, None, non-ASCII),
    and ``tags`` and ``properties`` more."""
    for number in range(14):
        run = experiment.start_logging(outputs=False, display_name=f"n{number}")
        run.set_tags({"i": str(number), "tab\there": "line\nbreak", "none": None, **(tags or {})})
        run.add_properties({"p": "ü" * (number % 3), **(properties or {})})
        if number % 3 == 0:
            run.complete()
        elif number % 3 == 1:
            run.cancel()
        else:
            run.fail(error_details="bad")


def silence_and_tie(workspace: Path) -> None:
    """In the database of a workspace closed by every process: run ``n12`` is Running but
    stopped beating long ago (NotResponding), and ``n2`` was created at the very time of ``n1``
    (ties are broken by number)."""
    now = time.time()
    run_sql(workspace, "UPDATE runs SET status = 'Running', end_time = NULL, "
            f"heartbeat_time = {now - 10_000} WHERE display_name = 'n12'")  # fmt: skip
    run_sql(workspace, "UPDATE runs SET created_time = (SELECT created_time FROM runs "
            "WHERE display_name = 'n1') WHERE display_name = 'n2'")  # fmt: skip


def run_sql(workspace: Path, sql: str) -> None:
    """Execute one statement on a workspace's SQLite database."""
    with sqlite3.connect(workspace / "runhistory.db") as conn:
        conn.execute(sql)
    conn.close()
