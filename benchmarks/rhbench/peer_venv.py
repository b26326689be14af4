"""The peers' own virtual environments (MLflow, Aim): made once, probed, installed into.

A peer never becomes a project dependency: each lives in a venv of its own under
``benchmarks/`` and is driven through that venv's python.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def python_of(venv: Path) -> Path:
    """The python of ``venv`` (which may not exist yet)."""
    return venv / "bin" / "python"


def make_venv(venv: Path) -> Path:
    """Create ``venv`` unless it exists; its python."""
    python = python_of(venv)
    if not python.exists():
        run([sys.executable, "-m", "venv", str(venv)])
    return python


def probe(python: Path, code: str) -> str | None:
    """What ``python -c code`` prints (stripped), or None if it fails, prints nothing or the
    venv does not exist."""
    if not python.exists():
        return None
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    printed = done.stdout.strip()
    return printed if done.returncode == 0 and printed else None


def run(command: list[str]) -> str:
    """Run ``command``; its stdout.

    Raises:
        RuntimeError: it failed; the message ends with its stderr.
    """
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed:\n{done.stderr.strip()[-2000:]}")
    return done.stdout
