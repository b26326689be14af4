"""Python scripts run by tests as real child processes of this interpreter."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def killed_after_first_line(script: Path, *args: str) -> tuple[str, int]:
    """Run ``script`` with ``args``, read the first line it prints, then SIGKILL it.

    Returns the line and the process's exit status (``-SIGKILL`` when the kill ended it).
    """
    process = subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.communicate(timeout=30)
    return line, process.returncode
