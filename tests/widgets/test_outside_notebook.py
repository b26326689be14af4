"""``RunDetails(run).show()`` where no notebook is: a summary line and the studio link."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runhistory import Experiment, Workspace
from runhistory.widgets import RunDetails

SCRIPT = """\
import threading
from azureml.core import Experiment, Workspace
from azureml.widgets import RunDetails

run = Experiment(Workspace(path={workspace!r}), "plain-script").start_logging(display_name="fit")
for step in range(5):
    run.log("loss", 1.0 / (step + 1), step=step)
RunDetails(run).show()
run.complete()
RunDetails(run).show()
print("threads:", [t.name for t in threading.enumerate() if t.name.startswith("runhistory-widget")])
"""


def test_a_plain_script_prints_a_summary_and_the_link(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(workspace=str(tmp_path / "ws")), encoding="utf-8")
    env_studio = "http://studio.example.test:8080"
    done = subprocess.run(
        [sys.executable, "-m", "runhistory.compat.azureml", str(script)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={**_environment(tmp_path), "RUNHISTORY_STUDIO_URL": env_studio},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("fit (plain-script_") and ": Running · " in lines[0]
    assert lines[0].endswith("loss=0.2")
    assert lines[1].startswith(f"Web View: {env_studio}/#/experiments/")
    assert ": Completed · " in lines[2]
    assert lines[4] == "threads: []"
    assert "Traceback" not in done.stderr


def test_render_lib_gets_html(tmp_path: Path) -> None:
    run = Experiment(Workspace(path=tmp_path / "ws"), "databricks").start_logging()
    shown: list[str] = []
    RunDetails(run).show(render_lib=shown.append)
    assert shown[0].startswith("<p>Run 1 (") and f"/runs/{run.id}" in shown[0]
    run.complete()


def _environment(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "RUNHISTORY_HOME": str(tmp_path / "home"), "RUNHISTORY_QUIET": "1"}
