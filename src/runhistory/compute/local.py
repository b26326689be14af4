"""The ``local`` compute target: each job runs under a detached supervisor process.

The supervisor (``python -m runhistory.compute.supervisor RUN_ID``) gets its own session, so it
outlives the submitting process; its pid, host and start time go into
``run_definition["compute"]``. Any process on the same host can then tell whether the job is
still alive: a run whose supervisor is gone while the run is not finished becomes Failed (or
Canceled if a cancel was pending), never stays Running.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from runhistory.client.backend import home_folder
from runhistory.compute.base import ComputeTarget, JobSpec
from runhistory.compute.definition import COMPUTE, merge_section, section
from runhistory.compute.detached import start_supervisor
from runhistory.compute.finishing import finish_lost_run, request_cancel, set_final
from runhistory.compute.logs import read_job_log
from runhistory.compute.processes import host_name, pid_alive, signal_group
from runhistory.tracking import status as st
from runhistory.tracking.entities import RunInfo


def job_directory(run_id: str) -> str:
    """Where the local target keeps a run's working copy and raw logs."""
    return os.path.join(home_folder(), "jobs", run_id)


class LocalProcessTarget(ComputeTarget):
    """Runs jobs as processes on this machine, a configurable number at a time."""

    name = "local"

    def __init__(self, name: str = "local", max_jobs: int | None = None) -> None:
        self.name = name
        self.max_jobs = max_jobs  # None: RUNHISTORY_LOCAL_MAX_JOBS

    def submit(self, backend: Any, job: JobSpec) -> None:
        """Record the job's folders and start its detached supervisor."""
        folder = job_directory(job.run_id)
        os.makedirs(folder, exist_ok=True)
        merge_section(
            backend,
            job.run_id,
            COMPUTE,
            {
                "target": self.name,
                "queue": "queue" if self.name == "local" else f"queue-{self.name}",
                "max_jobs": self.max_jobs,
                "host": host_name(),
                "job_directory": folder,
                "working_directory": os.path.join(folder, "wd"),
            },
        )
        start_supervisor(backend, job.run_id, "runhistory.compute.supervisor", folder,
                         job.tracking_uri, job.artifact_location)  # fmt: skip

    def status(self, backend: Any, run_id: str) -> str:
        """The run's status, corrected when its supervisor is known to be gone."""
        return self.reconcile(backend, backend.get_run(run_id)).status

    def cancel(self, backend: Any, run: RunInfo) -> RunInfo:
        """Set CancelRequested for the supervisor to act on; Canceled at once if it is gone."""
        info, requested = request_cancel(backend, run.run_id)
        if not requested:
            return info
        compute = section(info, COMPUTE)
        if supervisor_gone(compute):
            _stop_orphan_job(compute)
            info = set_final(backend, run.run_id, st.CANCELED, None)
        return info

    def logs(self, backend: Any, run_id: str) -> str:
        """The job's ``logs/std_log.txt`` so far (empty before it starts)."""
        return read_job_log(backend, run_id)

    def reconcile(self, backend: Any, info: RunInfo) -> RunInfo:
        """Finish a run whose supervisor died without finishing it."""
        compute = section(info, COMPUTE)
        if st.is_terminal(info.status) or not supervisor_gone(compute):
            return info
        pid = compute.get("supervisor_pid")
        error = {
            "message": f"the job's supervisor process (pid {pid} on {compute.get('host')}) "
            f"ended without finishing the run; the job was lost (see "
            f"{compute.get('job_directory')}/supervisor.log)",
            "code": "SystemError",
        }
        return finish_lost_run(
            backend, info.run_id, error, stop_job=lambda: _stop_orphan_job(compute)
        )


def supervisor_gone(compute: dict[str, Any]) -> bool:
    """Whether the recorded supervisor is known to have ended (only decidable on its host)."""
    pid = compute.get("supervisor_pid")
    if not pid or compute.get("host") != host_name():
        return False
    return not pid_alive(int(pid), compute.get("supervisor_started"))


def _stop_orphan_job(compute: dict[str, Any]) -> None:
    pid = compute.get("job_pid")
    if (
        pid
        and compute.get("host") == host_name()
        and pid_alive(int(pid), compute.get("job_started"))
    ):
        signal_group(int(pid), signal.SIGKILL)
