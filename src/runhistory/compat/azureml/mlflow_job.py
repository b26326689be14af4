"""A submitted job's run stays the job's to end, whatever MLflow does in the script.

A job's script logs through MLflow into the job's own run (``MLFLOW_RUN_ID``, see
:mod:`runhistory.compute.mlflow_env`). MLflow ends the runs it starts: autologging ends its run
after each ``fit``, ``with mlflow.start_run():`` at the block's end, and MLflow's exit hook ends
the active run, as FINISHED even after an uncaught exception. For the job's run that would mean
Completed before the script is done, before its outputs are uploaded, and Completed for a
script that fails; MLflow's next call would also start a run of its own.

So in a job, once the script imports MLflow's client, ending the job's run through MLflow only
takes it off MLflow's stack and points ``MLFLOW_RUN_ID`` at it again: the next run MLflow
starts at top level resumes it, and the job ends it (Finalizing, then Completed or Failed).
Runs the script starts in addition (nested runs, ``start_run(run_id=...)`` of others) end as
usual.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

CLIENT_MODULE = "mlflow.tracking.client"
_MARK = "_runhistory_job_run"


def keep_job_run_open() -> None:
    """In a job whose MLflow run is its own run, hook MLflow's client (now or when imported)."""
    job_run = os.environ.get("RUNHISTORY_RUN_ID")
    if not job_run or os.environ.get("MLFLOW_RUN_ID") != job_run:
        return  # not a job, or the job's environment sends MLflow elsewhere
    loaded = sys.modules.get(CLIENT_MODULE)
    if loaded is not None:
        _hold(loaded, job_run)
    else:
        sys.meta_path.insert(0, _AfterImport(CLIENT_MODULE, lambda m: _hold(m, job_run)))


def _hold(module: types.ModuleType, job_run: str) -> None:
    """Make ``MlflowClient.set_terminated`` leave ``job_run`` running and resumable."""
    client = getattr(module, "MlflowClient", None)
    original = getattr(client, "set_terminated", None)
    if client is None or original is None or getattr(original, _MARK, None) == job_run:
        return

    def set_terminated(
        self: Any, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> None:
        if run_id == job_run:
            os.environ["MLFLOW_RUN_ID"] = job_run  # MLflow's next top-level run is this one
            return
        original(self, run_id, status, end_time)

    setattr(set_terminated, _MARK, job_run)
    client.set_terminated = set_terminated


class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls ``then(module)`` once ``name`` has been imported (then steps aside)."""

    def __init__(self, name: str, then: Callable[[types.ModuleType], None]) -> None:
        self.name = name
        self.then = then

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        execute = loader.exec_module
        then = self.then

        def exec_module(module: types.ModuleType) -> None:
            execute(module)
            then(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec
