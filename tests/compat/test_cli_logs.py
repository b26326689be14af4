"""``run submit-script --wait`` and ``run logs --follow`` stream a job's log on every backend."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from support.services import runhistory_command

SCRIPT = """
import time
for step in range(1, 4):
    print(f"step {step} done", flush=True)
    time.sleep(0.4)
print("é finished")
"""


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in the project folder: it finds the workspace through config.json."""
    return subprocess.run(
        [runhistory_command(), *args], cwd=project, capture_output=True, text=True,
        timeout=180, check=False, env={**os.environ},
    )  # fmt: skip


def test_submit_wait_and_logs_follow_stream_the_whole_log(project: Path) -> None:
    (project / "job.py").write_text(SCRIPT, encoding="utf-8")
    waited = _cli(project, "run", "submit-script", "-e", "cli-logs", "--wait", "job.py")
    assert waited.returncode == 0, waited.stderr
    assert "step 3 done" in waited.stdout and "é finished" in waited.stdout
    submitted = _cli(project, "run", "submit-script", "-e", "cli-logs", "job.py")
    assert submitted.returncode == 0, submitted.stderr
    run_id = submitted.stdout.split("RunId: ")[1].split()[0]
    followed = _cli(project, "run", "logs", "-r", run_id, "--follow")
    assert followed.returncode == 0, followed.stderr
    lines = [line for line in followed.stdout.splitlines() if line.startswith("step")]
    assert lines == ["step 1 done", "step 2 done", "step 3 done"]
    assert "é finished" in followed.stdout
