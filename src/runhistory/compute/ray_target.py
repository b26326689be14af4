"""The ``ray`` compute target: a submitted run becomes a job of a Ray cluster (Ray Jobs API).

The job is ``python -m runhistory.compute.ray_job RUN_ID`` on the cluster: it fetches the run's
snapshot from the tracking server, runs the script with the run's identity, uploads the growing
``logs/std_log.txt`` and ``./outputs`` and sets the run's status (see
:mod:`runhistory.compute.ray_job`). The job gets the tracking URI and, from a server with
``--auth``, a job credential made for this run (never the submitting user's own token). Pip
packages of the run's environment are installed by Ray (``runtime_env``); CPUs, GPUs and memory
come from the run configuration's ``resources``.
"""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import urlsplit

from runhistory import settings
from runhistory.compute.base import ComputeTarget, JobSpec
from runhistory.compute.definition import COMPUTE, ENVIRONMENT, merge_section, section_of
from runhistory.compute.finishing import finish_lost_run, request_cancel, set_final
from runhistory.compute.logs import read_job_log
from runhistory.errors import ConfigurationError, RunhistoryError, ValidationError
from runhistory.tracking import status as st
from runhistory.tracking.entities import RunInfo

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_FINISHED = ("SUCCEEDED", "FAILED", "STOPPED")
_CANCEL_WAIT_EXTRA = 15.0
_AGENT_WAIT = 60.0
RESOURCE_KEYS = ("cpu", "gpu", "memory_gb")
_FORWARDED = (
    "RUNHISTORY_LOG_UPLOAD_INTERVAL",
    "RUNHISTORY_HEARTBEAT_INTERVAL",
    "RUNHISTORY_CANCEL_GRACE_SECONDS",
)


class RayUnavailableError(RunhistoryError):
    """The Ray cluster's job server cannot be reached, or Ray is not installed here."""


_CLIENTS: dict[str, Any] = {}
_RECONCILE_EVERY = 2.0
_LAST_CHECK: dict[str, float] = {}


def _client(address: str) -> Any:
    """A job-submission client of ``address`` (kept: making one asks the server its version)."""
    if address in _CLIENTS:
        return _CLIENTS[address]
    try:
        from ray.job_submission import JobSubmissionClient
    except ImportError:
        raise ConfigurationError(
            "the ray compute target needs Ray on this machine: pip install 'runhistory[ray]'"
        ) from None
    try:
        client = _CLIENTS[address] = JobSubmissionClient(address)
        return client
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
        raise RayUnavailableError(
            f"the Ray job server at {address} does not answer: {type(exc).__name__}: "
            f"{str(exc)[:300]}"
        ) from None


def cluster_nodes(address: str) -> int:
    """How many nodes of the cluster at ``address`` are alive (RayUnavailableError if none)."""
    _client(address)  # a clear error when the job server does not answer
    try:
        from ray.util.state import list_nodes

        nodes = list_nodes(address=address, filters=[("state", "=", "ALIVE")])
    except Exception as exc:
        raise RayUnavailableError(f"cannot list the nodes of {address}: {exc}") from None
    return len(nodes)


def submission_id(run_id: str) -> str:
    """The Ray job id of a run."""
    return f"runhistory-{run_id}"


def job_resources(definition: dict[str, Any]) -> dict[str, float]:
    """``{"cpu", "gpu", "memory_gb"}`` asked for by the run configuration (checked)."""
    asked = definition.get("resources") or {}
    if not isinstance(asked, dict):
        raise ValidationError(f"resources must be a mapping of {RESOURCE_KEYS}, got {asked!r}")
    unknown = sorted(set(asked) - set(RESOURCE_KEYS))
    if unknown:
        raise ValidationError(f"unknown resources {unknown}; known: {', '.join(RESOURCE_KEYS)}")
    found: dict[str, float] = {}
    for key, value in asked.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValidationError(f"resources[{key!r}] must be a number >= 0, got {value!r}")
        found[key] = float(value)
    return found


def world_size(definition: dict[str, Any]) -> int:
    """How many processes a run's distributed settings ask for (1: not distributed).

    Raises:
        ValidationError: a distributed framework the ray target does not start.
    """
    distributed = definition.get("distributed") or {}
    if not distributed:
        return 1
    framework = distributed.get("framework")
    nodes = int(distributed.get("nodeCount") or 1)
    if framework == "PyTorch":
        return int(distributed.get("processCount") or nodes)
    if framework == "Python" and distributed.get("communicator") == "IntelMpi":
        return nodes * int(distributed.get("processCountPerNode") or 1)
    raise ValidationError(
        f"the ray target starts PyTorchConfiguration and MpiConfiguration jobs, not "
        f"{framework!r} ({distributed.get('communicator')}) ones"
    )


class RayTarget(ComputeTarget):
    """Runs submitted scripts as jobs of the Ray cluster whose job server is at ``address``.

    Args:
        name: the target's name in the workspace.
        address: the job server (dashboard), ``http://host:8265``.
        config: the target's recorded settings.
    """

    def __init__(self, name: str, address: str, config: dict[str, Any] | None = None) -> None:
        self.name = name
        self.address = address
        self.config = dict(config or {})

    # ---- submitting ---------------------------------------------------------------------
    def validate(self, run_definition: dict[str, Any]) -> None:
        """Refuse what a Ray job cannot run: unknown resources, TensorFlow parameter servers,
        conda-only packages."""
        job_resources(run_definition)
        world_size(run_definition)

    def submit(self, backend: Any, job: JobSpec) -> None:
        """Hand the run to the cluster as a Ray job; returns once the job server has it."""
        info: RunInfo = backend.get_run(job.run_id)
        definition = dict(info.run_definition or {})
        self._check_reachable_store(job.tracking_uri)
        resources = job_resources(definition)
        runtime_env = {
            "env_vars": self._job_env(backend, job, definition),
            **self._pip(definition),
        }
        sid = submission_id(job.run_id)
        merge_section(backend, job.run_id, COMPUTE,
                      {"target": self.name, "ray_address": self.address,
                       "ray_submission_id": sid})  # fmt: skip
        client = _client(self.address)
        deadline = time.monotonic() + _AGENT_WAIT
        while True:
            try:
                client.submit_job(
                    entrypoint=f"python -m runhistory.compute.ray_job {job.run_id}",
                    submission_id=sid,
                    runtime_env=runtime_env,
                    metadata={"runhistory_run_id": job.run_id},
                    **self._entrypoint_resources(resources, world_size(definition)),
                )
                return
            except Exception as exc:
                # A cluster that has just started answers before its job agent is up.
                if "No available agent" in str(exc) and time.monotonic() < deadline:
                    time.sleep(1.0)
                    continue
                raise RayUnavailableError(
                    f"the Ray job server at {self.address} refused the job: {str(exc)[:500]}"
                ) from None

    def _check_reachable_store(self, tracking_uri: str) -> None:
        if urlsplit(tracking_uri).scheme in ("http", "https"):
            return
        if urlsplit(self.address).hostname in _LOOPBACK:
            return  # a cluster on this machine reaches a local workspace too
        raise ValidationError(
            f"the ray target {self.name!r} runs jobs on {self.address}, which cannot reach the "
            f"workspace at {tracking_uri}: use a workspace on a tracking server "
            f"('runhistory server') that the cluster can reach"
        )

    def _job_env(self, backend: Any, job: JobSpec, definition: dict[str, Any]) -> dict[str, str]:
        env = {
            "RUNHISTORY_TRACKING_URI": job.tracking_uri,
            "PYTHONUNBUFFERED": "1",
            # Ray's time between SIGTERM and SIGKILL of a stopped job: room to upload outputs.
            "RAY_JOB_STOP_WAIT_TIME_S": str(int(_stop_grace() + 20)),
        }
        if job.artifact_location:
            env["RUNHISTORY_ARTIFACT_LOCATION"] = job.artifact_location
        for name in _FORWARDED:  # the job's timings follow the submitter's settings
            if os.environ.get(name):
                env[name] = os.environ[name]
        make_credential = getattr(backend, "create_job_credential", None)
        if make_credential is not None:
            limit = (definition.get(COMPUTE) or {}).get("max_run_duration_seconds")
            credential = make_credential(job.run_id, float(limit) if limit else None)
            if credential:
                env["RUNHISTORY_TRACKING_TOKEN"] = credential
        return env

    def _pip(self, definition: dict[str, Any]) -> dict[str, Any]:
        from runhistory.compute.envbuild import plan_environment

        plan = plan_environment(section_of(definition, ENVIRONMENT).get("definition"))
        if plan.kind == "conda":
            raise ValidationError(
                f"the ray target installs pip packages only; environment {plan.name!r} needs "
                f"conda ({', '.join(plan.conda) or 'another Python version'})"
            )
        if not plan.pip:
            return {}
        return {"pip": {"packages": list(plan.pip), "pip_check": False}}

    @staticmethod
    def _entrypoint_resources(resources: dict[str, float], ranks: int) -> dict[str, Any]:
        if ranks > 1:  # each rank asks for them in the placement group; the driver is light
            return {}
        found: dict[str, Any] = {}
        if "cpu" in resources:
            found["entrypoint_num_cpus"] = resources["cpu"]
        if "gpu" in resources:
            found["entrypoint_num_gpus"] = resources["gpu"]
        if "memory_gb" in resources:
            found["entrypoint_memory"] = int(resources["memory_gb"] * 1024**3)
        return found

    # ---- watching -----------------------------------------------------------------------
    def _ray_status(self, run_id: str) -> tuple[str, str] | None:
        """Ray's status and message of the run's job, or None if the cluster does not answer."""
        try:
            details = _client(self.address).get_job_info(submission_id(run_id))
        except Exception:
            return None
        return str(getattr(details.status, "value", details.status)), str(details.message or "")

    def status(self, backend: Any, run_id: str) -> str:
        """The run's status, corrected when Ray says its job has ended without finishing it."""
        return self.reconcile(backend, backend.get_run(run_id)).status

    def reconcile(self, backend: Any, info: RunInfo) -> RunInfo:
        """Finish a run whose Ray job ended (or failed to start) without finishing the run."""
        if st.is_terminal(info.status):
            return info
        now = time.monotonic()
        if now - _LAST_CHECK.get(info.run_id, 0.0) < _RECONCILE_EVERY:
            return info  # asked Ray a moment ago
        _LAST_CHECK[info.run_id] = now
        found = self._ray_status(info.run_id)
        if found is None or found[0] not in _FINISHED:
            return info
        ray_status, message = found
        error = {
            "message": f"the Ray job {submission_id(info.run_id)} on {self.address} ended "
            f"({ray_status}) without finishing the run: {message[:2000]}",
            "code": "SystemError",
        }
        return finish_lost_run(backend, info.run_id, error, canceled=ray_status == "STOPPED")

    def cancel(self, backend: Any, run: RunInfo) -> RunInfo:
        """CancelRequested, then ``stop_job``: the job stops the script, uploads its outputs
        and ends the run Canceled (set here if the job could not)."""
        info: RunInfo = request_cancel(backend, run.run_id)[0]
        try:
            _client(self.address).stop_job(submission_id(run.run_id))
        except RayUnavailableError:
            raise
        except Exception as exc:  # the job server answered but could not stop it
            print(f"runhistory: stopping Ray job: {exc}")
        deadline = time.monotonic() + _stop_grace() + _CANCEL_WAIT_EXTRA
        while time.monotonic() < deadline:
            info = backend.get_run(run.run_id)
            if st.is_terminal(info.status):
                return info
            found = self._ray_status(run.run_id)
            if found is not None and found[0] in _FINISHED:
                break
            time.sleep(0.25)
        time.sleep(0.5)  # the job's last status change may be on its way
        info = backend.get_run(run.run_id)
        if st.is_terminal(info.status):
            return info
        return set_final(backend, run.run_id, st.CANCELED, None)

    def logs(self, backend: Any, run_id: str) -> str:
        """The run's ``logs/std_log.txt`` so far (empty before the job starts)."""
        return read_job_log(backend, run_id)


def _stop_grace() -> float:
    return float(settings.get("RUNHISTORY_CANCEL_GRACE_SECONDS"))
