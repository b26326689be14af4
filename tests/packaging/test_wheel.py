"""Packaging: ``python -m build`` makes an sdist and a wheel that carry the built studio; the
wheel installed in a fresh virtual environment serves it. Without npm the build says so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import httpx
import pytest

from support.services import free_port, stop, wait_until_up

ROOT = Path(__file__).resolve().parents[2]


def _build(
    outdir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=env or dict(os.environ))  # fmt: skip


@pytest.mark.slow
def test_the_wheel_serves_the_studio_from_a_fresh_venv(tmp_path: Path) -> None:
    built = _build(tmp_path / "dist")
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "runhistory/server/static/index.html" in names and "runhistory/py.typed" in names
    assert any(n.startswith("runhistory/server/static/assets/") for n in names)
    assert "runhistory/widgets/static/run_details.js" in names  # the notebook widget's module
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
    assert any(n.endswith("src/runhistory/server/static/index.html") for n in members)
    assert any(n.endswith("src/runhistory/widgets/static/run_details.js") for n in members)
    assert any(n.endswith("/LICENSE") for n in members)
    assert not any("node_modules" in n for n in members)

    # A venv without pip of its own, filled by this environment's pip (``--python``), without
    # byte-compiling what it installs: a quarter of the time of ``ensurepip`` and a compiling
    # install, for the same installed packages.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)  # fmt: skip
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--quiet", "--no-compile", f"{wheel}[server]"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNHISTORY_", "PYTHON"))}
    env |= {"RUNHISTORY_HOME": str(tmp_path / "home"), "RUNHISTORY_QUIET": "1"}
    command = [str(venv / "bin" / "runhistory"), "server", "--port", str(port),
               "--backend-store-uri", f"sqlite:///{tmp_path / 'w.db'}"]  # fmt: skip
    with open(tmp_path / "server.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        page = httpx.get(f"http://127.0.0.1:{port}/")
        assert page.status_code == 200 and '<div id="app">' in page.text
        script = page.text.split('src="', 1)[1].split('"', 1)[0].lstrip("/")
        assert httpx.get(f"http://127.0.0.1:{port}/{script}").status_code == 200
        where = subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import runhistory; print(runhistory.__file__)"],
            capture_output=True, text=True, env=env, check=True,
        ).stdout  # fmt: skip
        assert str(venv) in where  # the installed wheel, not this checkout
    finally:
        stop(process)


def test_without_npm_the_build_fails_loudly(tmp_path: Path) -> None:
    empty = tmp_path / "no-programs"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}  # the build runs with this Python, and no npm
    assert shutil.which("npm", path=str(empty)) is None
    failed = _build(tmp_path / "dist", "--wheel", env=env)
    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    assert "npm is not installed" in output and "RUNHISTORY_SKIP_STUDIO=1" in output
    skipped = _build(tmp_path / "dist", "--wheel", env={**env, "RUNHISTORY_SKIP_STUDIO": "1"})
    assert skipped.returncode == 0, skipped.stderr[-2000:]
