"""Aim's own virtual environment under ``benchmarks/.venv-aim`` (never a project dependency).

The newest Aim on PyPI is installed once, when the venv does not exist yet (delete the folder to
take a newer release); the version found is recorded in the results. Building the venv took
24 s on this 2-core machine when it was quiet and 3.6 minutes under a load average of 15 (Aim
builds its UI package and pulls its own web stack), so ``--quick`` builds it too.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from rhbench.harness import BENCH_DIR

VENV = BENCH_DIR / ".venv-aim"
PACKAGE = "aim"


def installed(venv: Path = VENV) -> tuple[str, str] | None:
    """(python, Aim version) of an existing venv where Aim imports, else None."""
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    probe = subprocess.run(
        [str(python), "-c", "from aim.__version__ import __version__; print(__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    version = probe.stdout.strip()
    return (str(python), version) if probe.returncode == 0 and version else None


def ensure_aim(venv: Path = VENV) -> tuple[str, str]:
    """Create the venv and install the newest Aim if needed.

    Returns:
        (path of the venv's python, installed Aim version).

    Raises:
        RuntimeError: Aim could not be installed; the message says what pip said.
    """
    found = installed(venv)
    if found is not None:
        return found
    print(
        f"installing the newest {PACKAGE} into {venv} (once; 24 s on a quiet 2-core machine)",
        file=sys.stderr,
    )
    started = time.perf_counter()
    python = venv / "bin" / "python"
    if not python.exists():
        _run([sys.executable, "-m", "venv", str(venv)])
    _run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"])
    _run([str(python), "-m", "pip", "install", "-q", PACKAGE])
    found = installed(venv)
    if found is None:
        raise RuntimeError(f"Aim was installed into {venv} but does not import")
    print(f"Aim {found[1]} installed in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return found


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed:\n{done.stderr.strip()[-2000:]}")
    return done.stdout
