"""``Run.get_context()``: the submitted run, or one interactive run per process."""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

from runhistory import settings
from runhistory.errors import RunhistoryError
from runhistory.tracking import status as st

if TYPE_CHECKING:
    from runhistory.sdk.run import Run
    from runhistory.sdk.workspace import Workspace

INTERACTIVE_EXPERIMENT = "interactive"
_context_run: Run | None = None
_uncaught: BaseException | None = None
_lock = threading.Lock()


def experiment_name_for_script(argv0: str) -> str:
    """A valid experiment name from a script path (``train.py`` → ``train``)."""
    stem = os.path.splitext(os.path.basename(argv0))[0]
    name = re.sub(r"[^A-Za-z0-9_\-]", "-", stem).lstrip("_-")[:36]
    if len(name) < 3 or stem in ("", "-c", "ipykernel_launcher", "__main__"):
        return INTERACTIVE_EXPERIMENT
    return name


def get_context_run(allow_offline: bool = True) -> Run:
    """The run this process reports to (created on first call for interactive use)."""
    global _context_run
    with _lock:
        if _context_run is None:
            run_id = settings.get("RUNHISTORY_RUN_ID")
            _context_run = _submitted_run(run_id) if run_id else _interactive_run()
        return _context_run


def _submitted_run(run_id: str) -> Run:
    from runhistory.sdk.experiment import Experiment
    from runhistory.sdk.run import Run
    from runhistory.sdk.workspace import Workspace

    workspace = Workspace(
        tracking_uri=settings.get("RUNHISTORY_TRACKING_URI"),
        artifact_location=settings.get("RUNHISTORY_ARTIFACT_LOCATION"),
    )
    info = workspace._connection.backend.get_run(run_id)
    experiment = Experiment(workspace, info.experiment_name, _id=info.experiment_id)
    # ./outputs is tracked so run.complete() or register_model() in the script uploads it
    run = Run(experiment, run_id, _info=info, _track_outputs=True)
    run._start_system_metrics(None)  # stopped when the script ends (or completes the run)
    return run


def _interactive_run() -> Run:
    from runhistory.sdk.experiment import Experiment

    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    experiment = Experiment(_context_workspace(), experiment_name_for_script(argv0))
    run = experiment.start_logging()
    _install_exit_hooks()
    return run


def _context_workspace() -> Workspace:
    """The workspace ``Workspace.from_config()`` finds here (said in a notice), else the default."""
    from runhistory.sdk.config import find_config_file
    from runhistory.sdk.notices import notice
    from runhistory.sdk.workspace import Workspace

    found = find_config_file()
    if found is None or settings.get("RUNHISTORY_TRACKING_URI"):
        return Workspace()
    workspace = Workspace.from_config(found)
    notice(
        f"Run.get_context() outside a submitted job logs to workspace {workspace.name!r} "
        f"({workspace.tracking_uri}), named by {found}"
    )
    return workspace


def _install_exit_hooks() -> None:
    previous = sys.excepthook

    def record(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        global _uncaught
        _uncaught = value
        previous(kind, value, tb)

    sys.excepthook = record
    original_exit = sys.exit

    def exit_and_record(status: Any = None) -> NoReturn:
        # atexit cannot see the exit status; a script that calls sys.exit(3) failed.
        global _uncaught
        if status not in (None, 0):
            _uncaught = SystemExit(status)
        original_exit(status)

    sys.exit = exit_and_record  # type: ignore[assignment]
    atexit.register(_finish_context_run)


def _finish_context_run() -> None:
    run = _context_run
    if run is None:
        return
    try:
        if st.is_terminal(run.get_status()):
            return
        if _uncaught is not None:
            run.fail(error_details=_uncaught)
        else:
            run.complete()
    except RunhistoryError as exc:
        print(f"runhistory: could not finish run {run.id}: {exc}", file=sys.stderr)


def _reset_for_tests() -> None:
    """Forget the context run (tests create several workspaces in one process)."""
    global _context_run, _uncaught
    _context_run = None
    _uncaught = None
