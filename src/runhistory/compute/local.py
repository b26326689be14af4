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
import subprocess
import sys
import threading
from typing import Any

from runhistory.client.backend import home_folder
from runhistory.compute.base import LOG_FILE, ComputeTarget, JobSpec
from runhistory.compute.definition import COMPUTE, merge_section, section
from runhistory.compute.processes import host_name, pid_alive, signal_group, start_ticks
from runhistory.errors import InvalidTransitionError, NotFoundError
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
        process = _spawn_supervisor(job, folder)
        merge_section(
            backend,
            job.run_id,
            COMPUTE,
            {
                "supervisor_pid": process.pid,
                "supervisor_started": start_ticks(process.pid),
            },
        )
        # Reap the supervisor if this process outlives it (else it lingers as a zombie).
        threading.Thread(target=process.wait, name=f"reap-{job.run_id}", daemon=True).start()

    def status(self, backend: Any, run_id: str) -> str:
        """The run's status, corrected when its supervisor is known to be gone."""
        return self.reconcile(backend, backend.get_run(run_id)).status

    def cancel(self, backend: Any, run: RunInfo) -> RunInfo:
        """Set CancelRequested for the supervisor to act on; Canceled at once if it is gone."""
        try:
            info: RunInfo = backend.set_status(run.run_id, st.CANCEL_REQUESTED)
        except InvalidTransitionError:
            latest: RunInfo = backend.get_run(run.run_id)
            if st.is_terminal(latest.status):
                raise
            return latest
        compute = section(info, COMPUTE)
        if supervisor_gone(compute):
            _stop_orphan_job(compute)
            info = _set_final(backend, run.run_id, st.CANCELED, None)
        return info

    def logs(self, backend: Any, run_id: str) -> str:
        """The job's ``logs/std_log.txt`` so far (empty before it starts)."""
        try:
            with backend.open_file(run_id, LOG_FILE) as handle:
                data: bytes = handle.read()
        except NotFoundError:
            return ""
        return data.decode("utf-8", errors="replace")

    def reconcile(self, backend: Any, info: RunInfo) -> RunInfo:
        """Finish a run whose supervisor died without finishing it."""
        compute = section(info, COMPUTE)
        if st.is_terminal(info.status) or not supervisor_gone(compute):
            return info
        latest: RunInfo = backend.get_run(info.run_id)  # it may have just finished properly
        if st.is_terminal(latest.status):
            return latest
        _stop_orphan_job(compute)
        if latest.status == st.CANCEL_REQUESTED:
            return _set_final(backend, info.run_id, st.CANCELED, None)
        pid = compute.get("supervisor_pid")
        error = {
            "message": f"the job's supervisor process (pid {pid} on {compute.get('host')}) "
            f"ended without finishing the run; the job was lost (see "
            f"{compute.get('job_directory')}/supervisor.log)",
            "code": "SystemError",
        }
        return _set_final(backend, info.run_id, st.FAILED, error)


def _spawn_supervisor(job: JobSpec, folder: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["RUNHISTORY_TRACKING_URI"] = job.tracking_uri
    env.pop("RUNHISTORY_ARTIFACT_LOCATION", None)
    if job.artifact_location:
        env["RUNHISTORY_ARTIFACT_LOCATION"] = job.artifact_location
    with open(os.path.join(folder, "supervisor.log"), "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "runhistory.compute.supervisor", job.run_id],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
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


def _set_final(backend: Any, run_id: str, status: str, error: dict[str, Any] | None) -> RunInfo:
    try:
        info: RunInfo = backend.set_status(run_id, status, error=error)
    except InvalidTransitionError:
        info = backend.get_run(run_id)
    return info
