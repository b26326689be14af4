"""The lifecycle half of :class:`~runhistory.sdk.run.Run`: status, details, outputs."""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import replace
from stat import S_ISDIR
from typing import TYPE_CHECKING, Any

from runhistory.client.outputs import upload_output_folders
from runhistory.client.queue import MetricQueue
from runhistory.errors import RunhistoryError
from runhistory.sdk.timefmt import iso_utc
from runhistory.sysmetrics.monitor import start_monitor
from runhistory.tracking import status as st
from runhistory.tracking.entities import RunInfo, StatusChange
from runhistory.tracking.validation import printable

if TYPE_CHECKING:
    from runhistory.client.protocol import Backend
    from runhistory.sysmetrics.monitor import SystemMonitor


class RunStateMixin:
    """Status transitions, details, and uploading the outputs folder when a run ends."""

    _run_id: str
    _info: RunInfo
    _queue: MetricQueue
    _outputs_dir: str | None
    _write_behind: bool
    _system_monitor: SystemMonitor | None

    if TYPE_CHECKING:  # provided by Run

        @property
        def _backend(self) -> Backend: ...

    def _refresh(self) -> None:
        info = self._backend.get_run(self._run_id)
        if (info.run_definition or {}).get("compute") and not st.is_terminal(info.status):
            from runhistory.compute import reconcile  # a submitted job may be gone

            info = reconcile(self._backend, info)
        self._info = info

    @property
    def status(self) -> str:
        """The run's current status."""
        return self.get_status()

    def get_status(self) -> str:
        """The run's current status (NotStarted, Running, Completed, Failed, …)."""
        self._refresh()
        return self._info.status

    def get_detailed_status(self) -> dict[str, Any]:
        """``{'status': ..., 'details': ...}`` where details say what the run waits for."""
        self._refresh()
        return {"status": self._info.status, "details": _status_details(self._info)}

    def start(self) -> None:
        """Mark the run Running."""
        if not self._write_behind:
            self._info = self._backend.set_status(self._run_id, st.RUNNING)
            return
        st.check_transition(self._run_id, self._info.status, st.RUNNING)
        now = time.time()
        self._queue.put_change(StatusChange(self._run_id, st.RUNNING, now))
        self._info = replace(self._info, status=st.RUNNING, start_time=self._info.start_time or now)

    def complete(self, _set_status: bool = True) -> None:
        """Flush metrics, upload the outputs folder and mark the run Completed.

        Raises:
            InvalidTransitionError: the run has already finished.
        """
        self._finish(st.COMPLETED, None, _set_status)

    def fail(
        self, error_details: Any = None, error_code: str | None = None, _set_status: bool = True
    ) -> None:
        """Flush, upload outputs and mark the run Failed, recording the error.

        Args:
            error_details: an exception or a message.
            error_code: an optional code such as ``UserError``.
        """
        self._finish(st.FAILED, _error_dict(error_details, error_code), _set_status)

    def cancel(self) -> None:
        """Cancel the run: a submitted job is stopped; an interactive run becomes Canceled."""
        from runhistory.sdk.cancel import cancel_run

        self._stop_heartbeat()
        self._stop_system_metrics()
        self._info = cancel_run(self)  # type: ignore[arg-type]

    def _start_system_metrics(self, wanted: bool | None) -> None:
        """Sample the machine's figures under ``system/`` until the run ends (unless off)."""
        self._system_monitor = start_monitor(self.log, wanted)  # type: ignore[attr-defined]

    def _stop_system_metrics(self) -> None:
        """Take the last sample and stop sampling (before the final status is queued)."""
        monitor, self._system_monitor = self._system_monitor, None
        if monitor is not None:
            monitor.stop()

    def _stop_heartbeat(self) -> None:
        beat = getattr(self, "_heartbeat", None)
        if beat is not None:
            beat.stop()

    def _finish(self, status: str, error: dict[str, Any] | None, set_status: bool) -> None:
        self._stop_heartbeat()
        self._stop_system_metrics()
        # The cached status is enough here: the store refuses a finished run atomically.
        if st.is_terminal(self._info.status):
            st.check_transition(self._run_id, self._info.status, status)
        if self._write_behind:
            self._finish_behind(status, error, set_status)
            return
        try:
            self._queue.flush(run_id=self._run_id)
        finally:
            self._upload_outputs()
            if set_status:
                self._info = self._backend.set_status(self._run_id, status, error=error)

    def _finish_behind(self, status: str, error: dict[str, Any] | None, set_status: bool) -> None:
        """Queue the final status after everything logged, then wait until all is stored."""
        self._upload_outputs()
        if not set_status:
            self._queue.flush(run_id=self._run_id)
            return
        now = time.time()
        self._queue.put_change(StatusChange(self._run_id, status, now, error))
        try:
            self._queue.flush(run_id=self._run_id)
        except RunhistoryError:
            self._refresh()  # keep what the store has: the status may have been refused
            raise
        info = self._info
        self._info = RunInfo.of(
            {
                **info.__dict__,
                "status": status,
                "start_time": info.start_time or now,
                "end_time": now,
                "error": error if error is not None else info.error,
            }
        )

    def _upload_outputs(self) -> None:
        folder = self._outputs_dir
        if folder and _has_entries(folder):
            if self._write_behind:
                self._queue.flush()  # the run must be stored first; if it could not be, say why
            upload_output_folders(self._backend, self._run_id, {"outputs": folder})

    def get_details(self) -> dict[str, Any]:
        """The run's details: ``runId``, ``target``, ``status``, times, ``properties``, …

        ``endTimeUtc`` is absent while the run is not finished.
        """
        self._refresh()
        info = self._info
        details: dict[str, Any] = {
            "runId": info.run_id,
            "target": info.target,
            "status": info.status,
            "startTimeUtc": iso_utc(info.start_time),
            "properties": {**info.properties, **_snapshot_property(info)},
            "inputDatasets": [],
            "outputDatasets": [],
            "runDefinition": info.run_definition or {},
            "logFiles": self._log_files(),
            "submittedBy": info.submitted_by,
        }
        if info.end_time is not None and st.is_terminal(info.status):
            details["endTimeUtc"] = iso_utc(info.end_time)
        if info.error is not None:
            details["error"] = info.error
        return details

    def _log_files(self) -> dict[str, str]:
        files = self._backend.list_files(self._run_id, prefix="logs/")
        return {f.name: f"{self._run_id}/{f.name}" for f in files}

    def get_details_with_logs(self) -> dict[str, Any]:
        """:meth:`get_details` with the text of each log file under ``logFiles``."""
        details = self.get_details()
        contents = {}
        for name in details["logFiles"]:
            with self._backend.open_file(self._run_id, name) as handle:
                contents[name] = handle.read().decode("utf-8", errors="replace")
        details["logFiles"] = contents
        return details

    def get_environment(self) -> dict[str, Any]:
        """What the run ran in: Python version, interpreter, platform and installed packages."""
        self._refresh()
        definition = self._info.run_definition or {}
        environment: dict[str, Any] = definition.get("environment", {})
        return environment

    def clean(self) -> list[str]:
        """Remove the run's local working copy, if it was submitted to a local target."""
        from runhistory.sdk.cancel import clean_run

        return clean_run(self)  # type: ignore[arg-type]


def _status_details(info: RunInfo) -> str | None:
    waiting = {
        st.NOT_STARTED: "the run has not been started",
        st.QUEUED: "waiting for a free slot on the compute target",
        st.PREPARING: "preparing the environment and the snapshot",
        st.STARTING: "starting the process",
        st.PROVISIONING: "provisioning the compute target",
        st.FINALIZING: "uploading outputs and logs",
        st.CANCEL_REQUESTED: "stopping the process",
        st.NOT_RESPONDING: "no heartbeat received recently; the process may be gone",
    }
    if info.status == st.FAILED and info.error:
        return str(info.error.get("message"))
    return waiting.get(info.status)


def _snapshot_property(info: RunInfo) -> dict[str, str]:
    return {"ContentSnapshotId": info.snapshot_id} if info.snapshot_id else {}


def _error_dict(error_details: Any, error_code: str | None) -> dict[str, Any]:
    if isinstance(error_details, BaseException):
        message = f"{type(error_details).__name__}: {error_details}"
        lines = traceback.format_exception(
            type(error_details), error_details, error_details.__traceback__
        )
        error = {
            "message": printable(message),
            "code": printable(error_code or "UserError"),
            "traceback": printable("".join(lines)[-8000:]),
        }
    else:
        error = {
            "message": printable(str(error_details)) if error_details else "the run failed",
            "code": printable(error_code or "UserError"),
        }
    if isinstance(error_details, RunhistoryError):
        error["code"] = error_code or type(error_details).__name__
    return error


def _has_entries(folder: str) -> bool:
    """Whether ``folder`` is a folder with something in it.

    Most runs leave their outputs folder empty, and a process starting many runs shares one:
    once it was listed empty, a ``stat`` that shows it unchanged (same folder, same change
    times) says it still is, one system call instead of five. A folder's times change
    whenever an entry is added, removed or renamed in it (its change time also when its
    times are set); only a listing made a while after the folder's last modification
    (:data:`_SETTLED_FINE_NS`, or :data:`_SETTLED_NS` where times are whole seconds) is
    remembered, so one in the same tick of the file system's clock as the one seen cannot go
    unnoticed.
    """
    global _known_empty
    try:
        info = os.stat(folder)
    except (FileNotFoundError, NotADirectoryError):
        return False
    if not S_ISDIR(info.st_mode):
        return False
    seen = (folder, info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns)
    if seen == _known_empty:
        return False
    try:
        if os.listdir(folder):
            return True
    except (FileNotFoundError, NotADirectoryError):
        return False
    # A time with a fraction of a second comes from a clock that ticks in milliseconds;
    # whole seconds may be all the file system keeps (FAT: two).
    settled = _SETTLED_NS if info.st_mtime_ns % 1_000_000_000 == 0 else _SETTLED_FINE_NS
    if time.time_ns() - info.st_mtime_ns > settled:
        _known_empty = seen
    return False


# The outputs folder last listed empty long enough after its last change (see _has_entries):
# (path, device, inode, modification and change time in ns).
_known_empty: tuple[str, int, int, int, int] | None = None
_SETTLED_NS = 3_000_000_000  # a file system that keeps whole seconds
_SETTLED_FINE_NS = 100_000_000  # one that keeps fractions: its clock ticks in milliseconds
