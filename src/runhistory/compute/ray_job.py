"""``python -m runhistory.compute.ray_job RUN_ID``: a submitted run, as the job of a Ray cluster.

Started by :class:`~runhistory.compute.ray_target.RayTarget` through the Ray Jobs API, inside
the job's ``runtime_env`` (its pip packages; the tracking URI and job credential as environment
variables). It drives the run like the local supervisor: fetches the snapshot from the tracking
server (``Preparing``), runs the script under the azureml alias with the run's identity, uploads
the growing ``logs/std_log.txt``, beats the heartbeat and obeys a cancel (``Running``), uploads
``./outputs`` and ``./logs`` and sets the final status. ``SIGTERM`` (Ray's ``stop_job``) counts as
a cancel. A distributed run (``node_count > 1``) starts its ranks in a placement group
(:mod:`runhistory.compute.ray_ranks`).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from typing import Any

from runhistory.compute.definition import COMPUTE, ENVIRONMENT, merge_section, section
from runhistory.compute.envbuild import describe_interpreter
from runhistory.compute.logs import PrepareLog
from runhistory.compute.mlflow_env import mlflow_variables
from runhistory.compute.processes import host_name
from runhistory.compute.ray_target import world_size
from runhistory.compute.supervisor import Supervisor
from runhistory.tracking import status as st


class RayJobDriver(Supervisor):
    """The local supervisor's steps, without a local queue or environment build."""

    def __init__(self, backend: Any, run_id: str, folder: str) -> None:
        super().__init__(backend, run_id, folder)
        self.terminated = False

    def run(self) -> None:
        """Run the job to a terminal status (never raises for a failing job)."""
        info = self.backend.get_run(self.run_id)
        self.definition = dict(info.run_definition or {})
        self.compute = section(info, COMPUTE)
        self._record(
            {
                "ray_host": host_name(),
                "driver_pid": os.getpid(),
                "job_directory": self.home,
                "working_directory": os.path.join(self.home, "wd"),
            }
        )
        if not self._advance(st.PREPARING):
            return
        workdir = self._prepare_ray()
        if self._stop_asked():
            self._set(st.CANCELED)
            return
        ranks = world_size(self.definition)
        if ranks > 1:
            from runhistory.compute.ray_ranks import DistributedRun

            DistributedRun(self, workdir, ranks).run()
        else:
            self._execute(workdir, sys.executable)

    def _prepare_ray(self) -> str:
        self.prepare_log = PrepareLog(
            self.backend, self.run_id, os.path.join(self.home, "prepare_log.txt")
        )
        try:
            self.prepare_log.write(f"ray job on {host_name()}, python {sys.executable}")
            workdir = self._extract_snapshot(self.home)
            described = describe_interpreter(sys.executable)
            described.pop("hasRunhistory", None)
            described["build"] = {"kind": "ray", "interpreter": sys.executable}
            merge_section(self.backend, self.run_id, ENVIRONMENT, described)
        finally:
            self.prepare_log.close()
        return workdir

    def _stop_asked(self) -> bool:
        return self.terminated or super()._stop_asked()

    def rank_environment(self) -> dict[str, str]:
        """The variables every process of the run gets on top of its node's environment."""
        env: dict[str, str] = {}
        env_definition = (self.definition.get(ENVIRONMENT) or {}).get("definition") or {}
        for source in (
            env_definition.get("environmentVariables"),
            self.compute.get("environment_variables"),
        ):
            env.update({str(k): str(v) for k, v in (source or {}).items()})
        for name in ("RUNHISTORY_TRACKING_URI", "RUNHISTORY_TRACKING_TOKEN",
                     "RUNHISTORY_ARTIFACT_LOCATION"):  # fmt: skip
            if os.environ.get(name):
                env[name] = os.environ[name]
        env.update({"RUNHISTORY_RUN_ID": self.run_id, "AZUREML_RUN_ID": self.run_id,
                    "PYTHONUNBUFFERED": "1"})  # fmt: skip
        env.update(mlflow_variables(self.run_id, env))
        return env


def main(argv: list[str]) -> int:
    """Entry point: drive run ``argv[0]`` in the workspace named by the environment."""
    if len(argv) != 1:
        print("usage: python -m runhistory.compute.ray_job RUN_ID", file=sys.stderr)
        return 2
    from runhistory import settings
    from runhistory.client.backend import connect

    uri = settings.get("RUNHISTORY_TRACKING_URI")
    connection = connect(uri, settings.get("RUNHISTORY_ARTIFACT_LOCATION"))
    folder = tempfile.mkdtemp(prefix=f"runhistory-{argv[0]}-")
    driver = RayJobDriver(connection.backend, argv[0], folder)

    def stop(signum: int, frame: Any) -> None:
        driver.terminated = True

    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        driver.run()
    except BaseException as exc:
        driver.fail_internal(exc)
        code = 1
    finally:
        end = getattr(connection.backend, "end_job_credential", None)
        if end is not None and settings.get("RUNHISTORY_TRACKING_TOKEN"):
            try:
                end()
            except Exception as exc:  # the credential expires anyway
                print(f"could not end the job credential: {exc}", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
