"""Starting a detached supervisor process for a run (a local job, a sweep's controller).

The process (``python -m <module> RUN_ID``) gets its own session, so it outlives the process
that started it; it writes to ``supervisor.log`` in its folder, and its pid and start time go
into ``run_definition["compute"]`` so that any process on the same host can tell whether it
still lives.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any

from runhistory.compute.definition import COMPUTE, merge_section
from runhistory.compute.processes import start_ticks

SUPERVISOR_LOG = "supervisor.log"


def start_supervisor(
    backend: Any,
    run_id: str,
    module: str,
    folder: str,
    tracking_uri: str,
    artifact_location: str | None,
    unset: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """Start ``python -m module run_id`` detached in ``folder`` and record it in the run.

    Args:
        backend: the workspace's backend (records the pid).
        run_id: the run it supervises.
        module: the module it runs.
        folder: its working folder, where its log goes.
        tracking_uri: the workspace it reports to.
        artifact_location: the workspace's artifact location (None: the URI's default).
        unset: environment variables of this process it must not inherit.
    """
    env = dict(os.environ)
    env["RUNHISTORY_TRACKING_URI"] = tracking_uri
    env.pop("RUNHISTORY_ARTIFACT_LOCATION", None)
    if artifact_location:
        env["RUNHISTORY_ARTIFACT_LOCATION"] = artifact_location
    for name in unset:
        env.pop(name, None)
    with open(os.path.join(folder, SUPERVISOR_LOG), "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module, run_id],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    merge_section(
        backend,
        run_id,
        COMPUTE,
        {"supervisor_pid": process.pid, "supervisor_started": start_ticks(process.pid)},
    )
    # Reap the supervisor if this process outlives it (else it lingers as a zombie).
    threading.Thread(target=process.wait, name=f"reap-{run_id}", daemon=True).start()
    return process
