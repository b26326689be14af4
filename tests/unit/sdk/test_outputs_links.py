"""A dangling link in ``./outputs`` never stops a run from completing: it is skipped, with a
warning on stderr and in the run's log; links inside the folder are stored as their targets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runhistory import Experiment, Workspace
from runhistory.client.outputs import WARNINGS_FILE


def _outputs(cwd: Path) -> None:
    outputs = cwd / "outputs"
    (outputs / "checkpoints").mkdir(parents=True)
    (outputs / "checkpoints" / "epoch2.ckpt").write_text("weights")
    os.symlink("checkpoints/epoch9.ckpt", outputs / "latest.ckpt")  # dangling
    os.symlink("checkpoints/epoch2.ckpt", outputs / "best.ckpt")  # inside: followed
    (cwd / "private.txt").write_text("not for the run")
    os.symlink(cwd / "private.txt", outputs / "leak.txt")  # outside: skipped


def test_a_dangling_link_in_outputs_is_skipped_and_the_run_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _outputs(tmp_path)
    run = Experiment(Workspace(tracking_uri=str(tmp_path / "ws")), "links").start_logging()
    run.log("loss", 0.5)
    run.complete()
    assert run.get_status() == "Completed"
    names = run.get_file_names()
    assert "outputs/checkpoints/epoch2.ckpt" in names and "outputs/best.ckpt" in names
    assert "outputs/latest.ckpt" not in names and "outputs/leak.txt" not in names
    with run._backend.open_file(run.id, WARNINGS_FILE) as handle:
        log = handle.read().decode()
    assert "skipped outputs/latest.ckpt: a link to 'checkpoints/epoch9.ckpt', which does not " \
           "exist" in log  # fmt: skip
    assert "skipped outputs/leak.txt: a link to" in log and "outside the folder" in log
    assert WARNINGS_FILE in run.get_details()["logFiles"]
    assert "skipped outputs/latest.ckpt" in capfd.readouterr().err
