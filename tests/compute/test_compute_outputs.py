"""A submitted job whose script exits 0 ends Completed even when its outputs hold a dangling
link: the link is skipped, with a warning in the run's log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from runhistory import Experiment, ScriptRunConfig
from runhistory.client.outputs import WARNINGS_FILE
from runhistory.tracking import status as st

SCRIPT = """
    import os
    os.makedirs("outputs/checkpoints", exist_ok=True)
    with open("outputs/checkpoints/epoch2.ckpt", "w") as handle:
        handle.write("weights")
    os.symlink("checkpoints/epoch9.ckpt", "outputs/latest.ckpt")
    os.symlink("checkpoints/epoch2.ckpt", "outputs/best.ckpt")
    os.symlink("/etc/hostname", "outputs/host.txt")
"""


def test_a_dangling_link_in_a_jobs_outputs_is_skipped_and_the_job_completes(
    exp: Experiment, source: Callable[..., Path], wait_for: Callable[..., str]
) -> None:
    run = exp.submit(ScriptRunConfig(source({"train.py": SCRIPT}), "train.py"))
    status = wait_for(run, st.TERMINAL_STATUSES, timeout=90)
    assert status == st.COMPLETED, run.get_details().get("error")
    names = run.get_file_names()
    assert "outputs/best.ckpt" in names and "outputs/checkpoints/epoch2.ckpt" in names
    assert "outputs/latest.ckpt" not in names and "outputs/host.txt" not in names
    with run._backend.open_file(run.id, WARNINGS_FILE) as handle:
        log = handle.read().decode()
    assert "skipped outputs/latest.ckpt: a link to 'checkpoints/epoch9.ckpt'" in log
    assert "skipped outputs/host.txt: a link to '/etc/hostname', outside the folder" in log
