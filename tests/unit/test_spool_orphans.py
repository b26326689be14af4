"""The clean-up of orphan spool folders never takes a folder another process makes or uses.

Found with 8 processes creating runs against one server at the same time: a process makes its
spool folder, and before it had taken the folder's lock and written ``meta.json``, another
process starting at the same moment took the folder for the empty orphan of an ended process
and deleted it; the first process then failed to open its spool and its first run was lost.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runhistory import Run, Workspace
from runhistory.client.spool import (
    ABANDONED_SECONDS,
    SpoolDir,
    orphaned_spools,
    remove_empty_orphans,
    spool_root,
)
from support.services import ServerProcess, start_server

URI = "http://127.0.0.1:9/spool-test"


def _server_folder(uri: str = URI) -> Path:
    """Where the spool folders of the server at ``uri`` are (made the way a client makes it)."""
    made = SpoolDir.create(uri)
    made.close()
    return Path(made.path).parent


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_folder_another_process_is_making_is_left_alone() -> None:
    # The other process has made its folder and not yet taken its lock nor written meta.json.
    folder = _server_folder() / f"{_dead_pid()}-0a1b2c3d"
    folder.mkdir()
    remove_empty_orphans(URI)
    assert list(orphaned_spools()) == []
    assert folder.is_dir()
    # ... and it goes on as SpoolDir.create does: its lock, its meta.json, its first batch.
    spool = SpoolDir(str(folder))
    claimed = SpoolDir.claim(str(folder))
    assert claimed is not None
    (folder / "meta.json").write_bytes(b'{"tracking_uri": "%s"}' % URI.encode())
    claimed.append({"run_id": "r1", "writes": []}, 0, keep_in_memory=False)
    assert [Path(b.path).name for b in spool.pending()] == ["000000000001.batch"]
    claimed.close()


def test_an_abandoned_folder_without_meta_is_removed() -> None:
    folder = _server_folder() / f"{_dead_pid()}-0a1b2c3d"
    folder.mkdir()
    _age(folder, ABANDONED_SECONDS + 5)
    remove_empty_orphans(URI)
    assert not folder.exists()


def test_an_old_folder_without_meta_of_a_living_process_is_kept() -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as living:
        try:
            folder = _server_folder() / f"{living.pid}-0a1b2c3d"
            folder.mkdir()
            _age(folder, ABANDONED_SECONDS + 5)
            remove_empty_orphans(URI)
            assert folder.is_dir()
        finally:
            living.kill()


_HOLDER = """
import os, sys
from runhistory.client.spool import SpoolDir
spool = SpoolDir.create(sys.argv[1])
if sys.argv[2] == "batch":
    spool.append({"run_id": "r1", "batch_id": "b1", "writes": []}, 0, keep_in_memory=False)
print(spool.path, flush=True)
sys.stdin.readline()
os._exit(0)  # ends without closing its spool, as a killed process does
"""


@pytest.fixture
def holder(tmp_path: Path) -> Path:
    """A script that makes a spool folder, says where, and ends when told (without closing)."""
    script = tmp_path / "holder.py"
    script.write_text(textwrap.dedent(_HOLDER), encoding="utf-8")
    return script


@pytest.mark.parametrize("content", ["empty", "batch"])
def test_a_folder_locked_by_a_living_process_is_never_taken(holder: Path, content: str) -> None:
    command = [sys.executable, str(holder), URI, content]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    with subprocess.Popen(command, **pipes) as child:
        assert child.stdin is not None and child.stdout is not None
        folder = Path(child.stdout.readline().strip())
        _age(folder, ABANDONED_SECONDS + 5)
        remove_empty_orphans(URI)
        assert list(orphaned_spools()) == []
        assert (folder / "meta.json").is_file()
        child.stdin.write("end\n")
        child.stdin.close()
        assert child.wait(30) == 0
    if content == "empty":  # an ended process's empty folder goes
        remove_empty_orphans(URI)
        assert not folder.exists()
    else:  # one with batches waits for ``runhistory sync``
        remove_empty_orphans(URI)
        found = list(orphaned_spools())
        assert [Path(s.path) for s in found] == [folder]
        assert [len(s.pending()) for s in found] == [1]
        for spool in found:
            spool.close()
        assert folder.is_dir()


_CLIENT = """
import os, sys, time
from runhistory import Experiment, Workspace
url, start, number = sys.argv[1], sys.argv[2], int(sys.argv[3])
while not os.path.exists(start):  # every process starts logging at the same moment
    time.sleep(0.001)
run = Experiment(Workspace(tracking_uri=url), "together").start_logging(outputs=False)
for step in range(20):
    run.log("loss", 1.0 / (step + 1), step=step)
run.log_row("row", process=number)
run.log("big", 2**70)
run.flush()
run.complete()
print(run.id, flush=True)
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A real ``runhistory server`` on a SQLite file."""
    found = start_server(f"sqlite:///{tmp_path / 'server.db'}", tmp_path / "server.log",
                         artifact_location=str(tmp_path / "artifacts"))  # fmt: skip
    try:
        yield found
    finally:
        found.stop()


def test_processes_starting_together_lose_no_run(server: ServerProcess, tmp_path: Path) -> None:
    script = tmp_path / "client.py"
    script.write_text(textwrap.dedent(_CLIENT), encoding="utf-8")
    start = tmp_path / "start"
    command = [sys.executable, str(script), server.url, str(start)]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    children = [subprocess.Popen([*command, str(number)], **pipes) for number in range(8)]
    time.sleep(1.0)  # most of them are waiting at the start line by now
    start.touch()
    run_ids = []
    for child in children:
        out, err = child.communicate(timeout=180)
        assert child.returncode == 0, err
        assert "runhistory:" not in err, err
        run_ids.append(out.strip())
    workspace = Workspace(tracking_uri=server.url)
    numbers = []
    for run_id in run_ids:
        run = Run.get(workspace, run_id)
        assert run.get_status() == "Completed"
        metrics = run.get_metrics()
        assert metrics["loss"] == [1.0 / (step + 1) for step in range(20)]
        assert metrics["big"] == 2**70
        numbers.append(metrics["row"]["process"])
    assert sorted(numbers) == list(range(8))
    assert list(Path(spool_root()).glob("*/*/*.batch")) == []  # every batch was delivered
