"""Submitted runs on a real Ray cluster, tracked by a real server with ``--auth``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from runhistory import Experiment, Run, ScriptRunConfig
from runhistory.sdk.conda_dependencies import CondaDependencies
from runhistory.sdk.distributed import PyTorchConfiguration
from runhistory.sdk.environment import Environment
from runhistory.tracking import status as st
from support.ray_cluster import TARGET, RaySetup

pytestmark = pytest.mark.timeout(600)  # the first test also waits for the cluster to start


def _file(run: Run, name: str) -> str:
    backend = run.experiment.workspace._connection.backend
    try:
        with backend.open_file(run.id, name) as handle:
            data: bytes = handle.read()
    except Exception:
        return ""
    return data.decode("utf-8", errors="replace")


def _ray_status(address: str, run: Run) -> str:
    from ray.job_submission import JobSubmissionClient

    return str(JobSubmissionClient(address).get_job_status(f"runhistory-{run.id}").value)


def _ray_final_status(address: str, run: Run, timeout: float = 60.0) -> str:
    """Ray's own status of the run's job once it ends.

    The run is Completed as soon as the job's wrapper records it; Ray marks the job
    SUCCEEDED only after the driver process has exited, a moment later.
    """
    deadline = time.monotonic() + timeout
    while (status := _ray_status(address, run)) not in ("STOPPED", "SUCCEEDED", "FAILED"):
        assert time.monotonic() < deadline, f"Ray's job is still {status}"
        time.sleep(0.2)
    return status


TRAIN = """
import os, sys, time
from azureml.core import Run
run = Run.get_context()
credential = os.environ.get("RUNHISTORY_TRACKING_TOKEN", "")
print("credential", credential, flush=True)
for step in range(8):
    run.log("loss", 1.0 / (step + 1))
    print(f"line {step}", flush=True)
    time.sleep(0.5)
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.txt", "w") as handle:
    handle.write("weights")
print("done", flush=True)
"""


def test_a_script_logs_metrics_writes_outputs_and_its_log_is_seen_live(
    ray_exp: Experiment, ray_setup: RaySetup, source: Callable[..., Path]
) -> None:
    folder = source({"train.py": TRAIN})
    run = ray_exp.submit(ScriptRunConfig(folder, "train.py", compute_target=TARGET))
    seen_live = False
    deadline = time.monotonic() + 240
    while not st.is_terminal(status := run.get_status()) and time.monotonic() < deadline:
        if status == st.RUNNING and "line 2" in _file(run, "logs/std_log.txt"):
            seen_live = seen_live or "done" not in _file(run, "logs/std_log.txt")
        time.sleep(0.2)
    details = run.wait_for_completion()
    assert details["status"] == "Completed"
    assert seen_live, "no log line was seen while the job ran"
    log = _file(run, "logs/std_log.txt")
    assert "line 7" in log
    credential = log.split("credential ", 1)[1].split()[0]
    assert credential.startswith("rhj_") and ray_setup.token not in log  # the job's own
    answer = httpx.get(f"{ray_setup.server.url}/api/v1/experiments",
                       headers={"Authorization": f"Bearer {credential}"})  # fmt: skip
    assert answer.status_code == 401  # the job ended its credential
    assert run.get_metrics()["loss"] == [1.0 / (s + 1) for s in range(8)]
    assert "outputs/model.txt" in run.get_file_names()
    assert details["target"] == TARGET
    assert _ray_final_status(ray_setup.address, run) == "SUCCEEDED"


def test_a_failing_script_fails_the_run_with_its_exit_code(
    ray_exp: Experiment, source: Callable[..., Path]
) -> None:
    folder = source({"bad.py": "import sys\nprint('boom', file=sys.stderr)\nsys.exit(3)\n"})
    run = ray_exp.submit(ScriptRunConfig(folder, "bad.py", compute_target=TARGET))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Failed"
    assert details["error"]["exitCode"] == 3
    assert "boom" in details["error"]["message"]


def test_cancel_mid_way_stops_the_ray_job_and_ends_canceled(
    ray_exp: Experiment, ray_setup: RaySetup, source: Callable[..., Path]
) -> None:
    script = "import time\nprint('started', flush=True)\ntime.sleep(120)\nprint('never')\n"
    folder = source({"slow.py": script})
    run = ray_exp.submit(ScriptRunConfig(folder, "slow.py", compute_target=TARGET))
    deadline = time.monotonic() + 120
    while "started" not in _file(run, "logs/std_log.txt"):
        assert time.monotonic() < deadline and not st.is_terminal(run.get_status())
        time.sleep(0.2)
    run.cancel()
    assert run.get_status() == "Canceled"
    assert _ray_final_status(ray_setup.address, run) == "STOPPED"
    assert "never" not in _file(run, "logs/std_log.txt")


def test_pip_packages_of_the_environment_are_installed_by_ray(
    ray_exp: Experiment, source: Callable[..., Path]
) -> None:
    script = (
        "import inflection\nfrom azureml.core import Run\n"
        "Run.get_context().tag('camel', inflection.camelize('ray_job'))\n"
    )
    folder = source({"deps.py": script})
    env = Environment("with-inflection")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["inflection==0.5.1"])
    config = ScriptRunConfig(folder, "deps.py", compute_target=TARGET, environment=env)
    run = ray_exp.submit(config)
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Completed", details.get("error")
    assert run.get_tags()["camel"] == "RayJob"


RANKS = """
import json, os, sys, time
from azureml.core import Run
names = ["MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK", "LOCAL_RANK"]
print(json.dumps({n: os.environ[n] for n in names}), flush=True)
Run.get_context().log("rank_seen", int(os.environ["RANK"]))
if os.environ.get("FAIL_RANK") == os.environ["RANK"]:
    time.sleep(1)
    sys.exit(5)
if os.environ.get("FAIL_RANK"):
    print("waiting", flush=True)
    time.sleep(120)
    print("rank finished", flush=True)
"""


def _distributed(folder: Path, fail_rank: str | None = None) -> ScriptRunConfig:
    config = ScriptRunConfig(
        folder, "ranks.py", compute_target=TARGET,
        distributed_job_config=PyTorchConfiguration(process_count=2, node_count=2),
    )  # fmt: skip
    config.run_config.resources = {"cpu": 1}
    if fail_rank is not None:
        config.run_config.environment_variables = {"FAIL_RANK": fail_rank}
    return config


def test_two_ranks_see_the_distributed_environment(
    ray_exp: Experiment, source: Callable[..., Path]
) -> None:
    run = ray_exp.submit(_distributed(source({"ranks.py": RANKS})))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Completed", details.get("error")
    seen = [json.loads(_file(run, f"logs/rank_{r}.txt").splitlines()[0]) for r in (0, 1)]
    assert [(s["RANK"], s["LOCAL_RANK"], s["WORLD_SIZE"]) for s in seen] == [
        ("0", "0", "2"),
        ("1", "1", "2"),
    ]
    assert seen[0]["MASTER_ADDR"] == seen[1]["MASTER_ADDR"]
    assert seen[0]["MASTER_PORT"] == seen[1]["MASTER_PORT"] and int(seen[0]["MASTER_PORT"]) > 0
    assert sorted(run.get_metrics()["rank_seen"]) == [0, 1]


def test_a_failing_rank_fails_the_run_and_stops_the_other(
    ray_exp: Experiment, source: Callable[..., Path]
) -> None:
    run = ray_exp.submit(_distributed(source({"ranks.py": RANKS}), fail_rank="1"))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Failed"
    assert details["error"]["exitCode"] == 5 and details["error"]["rank"] == 1
    assert "rank 1 of 2" in details["error"]["message"]
    rank0 = _file(run, "logs/rank_0.txt")
    assert "waiting" in rank0 and "rank finished" not in rank0
