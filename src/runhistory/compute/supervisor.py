"""``python -m runhistory.compute.supervisor RUN_ID``: runs one submitted job to its end.

Started detached (its own session) by :class:`~runhistory.compute.local.LocalProcessTarget`, so
the job outlives the process that submitted it. It reaches the workspace through
``RUNHISTORY_TRACKING_URI`` / ``RUNHISTORY_ARTIFACT_LOCATION`` and then:

1. waits for a slot of the local queue (``Queued``);
2. extracts the run's snapshot into a fresh working folder and provides the interpreter
   (``Preparing``);
3. runs the script under the azureml alias, uploads the growing ``logs/std_log.txt``, beats the
   heartbeat and watches for ``CancelRequested`` (``Running``);
4. uploads ``./outputs`` and ``./logs`` (``Finalizing``) and sets Completed, Failed (exit code and
   stderr tail in the error) or Canceled.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
import zipfile
from typing import Any

from runhistory import settings
from runhistory.client.outputs import upload_output_folders
from runhistory.compute.base import LOG_FILE
from runhistory.compute.definition import COMPUTE, ENVIRONMENT, merge_section, section, section_of
from runhistory.compute.envbuild import describe_interpreter, plan_environment, prepare_interpreter
from runhistory.compute.logs import LogUploader, PrepareLog
from runhistory.compute.mlflow_env import mlflow_variables
from runhistory.compute.process import JobProcess
from runhistory.compute.processes import start_ticks
from runhistory.compute.slots import acquire_slot
from runhistory.errors import InvalidTransitionError, RunhistoryError
from runhistory.tracking import status as st

_POLL = 0.25
_CLAIM_WAIT = 30.0
ALIAS_MODULE = "runhistory.compat.azureml"


_MOVING_ON_FROM = tuple(s for s in st.ACTIVE_STATUSES if s != st.CANCEL_REQUESTED)


class Supervisor:
    """Drives one run through Queued → Preparing → Running → Finalizing → its end."""

    def __init__(self, backend: Any, run_id: str, home: str) -> None:
        self.backend = backend
        self.run_id = run_id
        self.home = home
        self.compute: dict[str, Any] = {}
        self.definition: dict[str, Any] = {}
        self.prepare_log: PrepareLog | None = None

    # ---- the whole job ----------------------------------------------------------------
    def run(self) -> None:
        """Run the job to a terminal status (never raises for a failing job)."""
        self._claim()
        slot = acquire_slot(
            os.path.join(self.home, str(self.compute.get("queue") or "queue")),
            int(self.compute.get("max_jobs") or settings.get("RUNHISTORY_LOCAL_MAX_JOBS")),
            self._stop_asked,
        )
        if slot is None:
            self._set(st.CANCELED)
            return
        try:
            if not self._advance(st.PREPARING):
                return
            workdir, interpreter = self._prepare()
            if self._stop_asked():
                self._set(st.CANCELED)
                return
            self._execute(workdir, interpreter)
        finally:
            slot.release()

    def _advance(self, status: str) -> bool:
        """Move on to ``status`` unless a cancel is pending (then end Canceled: False)."""
        if self._stop_asked():
            self._set(st.CANCELED)
            return False
        self._set(status)
        return True

    def _claim(self) -> None:
        """Load the definition once the submitter has recorded this process as the supervisor."""
        deadline = time.monotonic() + _CLAIM_WAIT
        while True:
            info = self.backend.get_run(self.run_id)
            self.compute = section(info, COMPUTE)
            if self.compute.get("supervisor_pid") == os.getpid() or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.definition = dict(info.run_definition or {})
        if self.compute.get("supervisor_pid") != os.getpid():
            self._record(
                {"supervisor_pid": os.getpid(), "supervisor_started": start_ticks(os.getpid())}
            )

    # ---- Preparing ----------------------------------------------------------------------
    def _prepare(self) -> tuple[str, str]:
        job_dir = self.compute["job_directory"]
        os.makedirs(job_dir, exist_ok=True)
        self.prepare_log = PrepareLog(
            self.backend, self.run_id, os.path.join(job_dir, "prepare_log.txt")
        )
        try:
            workdir = self._extract_snapshot(job_dir)
            env_definition = section_of(self.definition, ENVIRONMENT).get("definition")
            plan = plan_environment(env_definition)
            interpreter = prepare_interpreter(
                plan, os.path.join(self.home, "envs"), self.prepare_log.write
            )
            described = describe_interpreter(interpreter)
            if not described.pop("hasRunhistory", False):
                raise RunhistoryError(
                    f"interpreter {interpreter} cannot import runhistory, which the job needs for "
                    f"Run.get_context(); install runhistory into it, or use an environment that "
                    f"is not user-managed"
                )
            described["build"] = {"kind": plan.kind, "interpreter": interpreter}
            merge_section(self.backend, self.run_id, ENVIRONMENT, described)
        finally:
            self.prepare_log.close()
        return workdir, interpreter

    def _extract_snapshot(self, job_dir: str) -> str:
        info = self.backend.get_run(self.run_id)
        if info.snapshot_id is None:
            raise RunhistoryError(f"run {self.run_id!r} has no snapshot to run")
        archive = os.path.join(job_dir, "snapshot.zip")
        self.backend.restore_snapshot_zip(info.snapshot_id, archive)
        workdir = self.compute["working_directory"]
        os.makedirs(workdir, exist_ok=True)
        with zipfile.ZipFile(archive) as opened:
            for member in opened.infolist():
                target = opened.extract(member, workdir)
                mode = (member.external_attr >> 16) & 0o777
                if mode:
                    os.chmod(target, mode)
        os.remove(archive)
        assert self.prepare_log is not None
        self.prepare_log.write(f"snapshot {info.snapshot_id} extracted to {workdir}")
        return str(workdir)

    # ---- Running ------------------------------------------------------------------------
    def _execute(self, workdir: str, interpreter: str) -> None:
        log_path = os.path.join(self.compute["job_directory"], "std_log.txt")
        job = JobProcess(self._argv(interpreter), workdir, self._job_env(interpreter), log_path)
        self._record({"job_pid": job.pid, "job_started": start_ticks(job.pid)})
        self._set(st.RUNNING)  # Running: the process exists and its pid is recorded
        self.backend.heartbeat(self.run_id)
        uploader = LogUploader(self.backend, self.run_id, log_path, LOG_FILE)
        reason = self._watch(job, uploader)
        job.finish()
        uploader.upload(force=True)
        self._finalize(job, reason, workdir)

    def _argv(self, interpreter: str) -> list[str]:
        command = [str(part) for part in self.compute.get("command") or []]
        if command:
            if command[0] in ("python", "python3"):
                rest = command[1:]
                if rest and rest[0].endswith(".py"):
                    return [interpreter, "-m", ALIAS_MODULE, *rest]
                return [interpreter, *rest]
            return command
        arguments = [str(a) for a in self.compute.get("arguments") or []]
        return [interpreter, "-m", ALIAS_MODULE, self.compute["script"], *arguments]

    def _job_env(self, interpreter: str) -> dict[str, str]:
        env = dict(os.environ)
        env_definition = section_of(self.definition, ENVIRONMENT).get("definition") or {}
        for source in (
            env_definition.get("environmentVariables"),
            self.compute.get("environment_variables"),
        ):
            env.update({str(k): str(v) for k, v in (source or {}).items()})
        env.update(
            {
                "RUNHISTORY_RUN_ID": self.run_id,
                "AZUREML_RUN_ID": self.run_id,
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(mlflow_variables(self.run_id, env))
        if interpreter != sys.executable:
            env["PATH"] = os.path.dirname(interpreter) + os.pathsep + env.get("PATH", "")
        return env

    def _watch(self, job: JobProcess, uploader: LogUploader) -> str | None:
        """Until the job exits: upload logs, beat, obey cancel and the time limit."""
        upload_every = float(settings.get("RUNHISTORY_LOG_UPLOAD_INTERVAL"))
        beat_every = float(settings.get("RUNHISTORY_HEARTBEAT_INTERVAL"))
        limit = self.compute.get("max_run_duration_seconds")
        deadline = time.monotonic() + float(limit) if limit else None
        next_upload = next_beat = 0.0
        while job.poll() is None:
            now = time.monotonic()
            try:
                if now >= next_upload:
                    uploader.upload()
                    next_upload = now + upload_every
                if now >= next_beat:
                    self.backend.heartbeat(self.run_id)
                    next_beat = now + beat_every
                stop = self._stop_asked()
            except RunhistoryError as exc:  # a store hiccup must not orphan the job
                print(f"supervisor: {exc}", file=sys.stderr, flush=True)
                stop = False
            if stop or (deadline is not None and now > deadline):
                job.stop(float(settings.get("RUNHISTORY_CANCEL_GRACE_SECONDS")))
                return "cancel" if stop else "timeout"
            time.sleep(_POLL)
        return None

    # ---- Finalizing ---------------------------------------------------------------------
    def _finalize(self, job: JobProcess, reason: str | None, workdir: str) -> None:
        code = job.poll()
        self._record({"exit_code": code})
        if reason == "cancel" or self._stop_asked():
            self._upload_outputs(workdir)
            self._set(st.CANCELED)
            return
        self._set(st.FINALIZING)
        self._upload_outputs(workdir)
        if reason == "timeout":
            limit = self.compute.get("max_run_duration_seconds")
            self._set(
                st.FAILED,
                {
                    "message": f"the run exceeded max_run_duration_seconds={limit} and was stopped",
                    "code": "RunTimeout",
                    "exitCode": code,
                },
            )
        elif code == 0:
            self._set(st.COMPLETED)
        else:
            self._set(st.FAILED, exit_error(code, job.stderr_tail()))

    def _upload_outputs(self, workdir: str) -> None:
        if not self.compute.get("output_collection", True):
            return
        paths = {name: os.path.join(workdir, name) for name in ("outputs", "logs")}
        found = {name: path for name, path in paths.items() if os.path.isdir(path)}
        upload_output_folders(self.backend, self.run_id, found)

    # ---- helpers ------------------------------------------------------------------------
    def _stop_asked(self) -> bool:
        status = self.backend.get_run(self.run_id).status
        return status in (st.CANCEL_REQUESTED, st.CANCELED)

    def _set(self, status: str, error: dict[str, Any] | None = None) -> None:
        # Moving on (Preparing, Running, Finalizing) never overwrites a cancel asked for since
        # the last look: the change is refused and the next look sees the request.
        expected = None if st.is_terminal(status) else _MOVING_ON_FROM
        try:
            self.backend.set_status(self.run_id, status, error=error, expected=expected)
        except InvalidTransitionError:
            return  # finished by the script itself (run.complete()/fail()), or being canceled
        print(f"{time.strftime('%H:%M:%S')} status {status}", flush=True)  # to supervisor.log

    def _record(self, values: dict[str, Any]) -> None:
        merge_section(self.backend, self.run_id, COMPUTE, values)
        self.compute.update(values)

    def fail_internal(self, exc: BaseException) -> None:
        """Record an error of the supervisor itself (bad environment, missing snapshot…)."""
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        print(text, file=sys.stderr, flush=True)
        message = str(exc) if isinstance(exc, RunhistoryError) else f"{type(exc).__name__}: {exc}"
        if self.prepare_log is not None:
            self.prepare_log.write(f"error: {message}")
            self.prepare_log.close()
        code = type(exc).__name__ if isinstance(exc, RunhistoryError) else "SystemError"
        self._set(
            st.FAILED,
            {
                "message": f"preparing the job failed: {message}",
                "code": code,
                "traceback": text[-8000:],
            },
        )


def exit_error(code: int | None, stderr_tail: str) -> dict[str, Any]:
    """The error recorded for a job that ended with a non-zero exit code."""
    if code is not None and code < 0:
        how = f"was killed by signal {signal.Signals(-code).name}"
    else:
        how = f"exited with code {code}"
    message = f"the script {how}"
    if stderr_tail:
        message += f". Last lines of stderr:\n{stderr_tail}"
    return {"message": message, "code": "UserError", "exitCode": code, "stderrTail": stderr_tail}


def main(argv: list[str]) -> int:
    """Entry point: supervise run ``argv[0]`` in the workspace named by the environment."""
    if len(argv) != 1:
        print("usage: python -m runhistory.compute.supervisor RUN_ID", file=sys.stderr)
        return 2
    from runhistory.client.backend import connect, home_folder

    uri = settings.get("RUNHISTORY_TRACKING_URI")
    connection = connect(uri, settings.get("RUNHISTORY_ARTIFACT_LOCATION"))
    supervisor = Supervisor(connection.backend, argv[0], home_folder())
    try:
        supervisor.run()
    except BaseException as exc:
        supervisor.fail_internal(exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
