"""Named compute targets: the azureml names, submitting to a named local pool, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from runhistory import Experiment, ScriptRunConfig, Workspace
from runhistory.errors import ValidationError
from runhistory.sdk.compute_target import AmlCompute, ComputeInstance, ComputeTarget
from runhistory.tracking import status as st

EXE = Path(sys.executable).with_name("runhistory")


def test_the_original_import_paths_resolve(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import json
        import runhistory.compat.azureml as alias
        assert alias.install()
        from azureml.core.compute import (AmlCompute, ComputeInstance, ComputeTarget,
                                          RemoteCompute)
        from azureml.core.compute_target import ComputeTargetException
        from azureml.core.compute import ComputeTargetException as Same
        from azureml.core.runconfig import DockerConfiguration, DEFAULT_CPU_IMAGE
        assert Same is ComputeTargetException
        sizes = AmlCompute.supported_vmsizes(None)
        print(json.dumps([AmlCompute.__module__, ComputeTarget.__name__,
                          sorted(s["name"] for s in sizes)[:2]]))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    module, name, sizes = json.loads(done.stdout)
    assert module == "runhistory.sdk.compute_target" and name == "ComputeTarget"
    assert sizes == ["Standard_D1_v2", "Standard_D2_v2"]


def test_a_script_runs_on_a_named_local_pool_given_by_name_or_object(
    exp: Experiment, source: Callable[..., Path], wait_for: Callable[..., str]
) -> None:
    folder = source({"train.py": "from azureml.core import Run\nRun.get_context().log('x', 1)\n"})
    pool = ComputeTarget.create(
        exp.workspace, "pool", AmlCompute.provisioning_configuration(max_nodes=2)
    )
    by_name = exp.submit(ScriptRunConfig(folder, "train.py", compute_target="pool"))
    by_object = exp.submit(ScriptRunConfig(folder, "train.py", compute_target=pool))
    for run in (by_name, by_object):
        assert wait_for(run, st.TERMINAL_STATUSES, timeout=90) == "Completed"
        assert run.get_details()["target"] == "pool"
        compute = run.get_details()["runDefinition"]["compute"]
        assert (compute["queue"], compute["max_jobs"]) == ("queue-pool", 2)
        assert run.get_metrics() == {"x": 1}


def test_an_unknown_target_is_refused_before_any_run_is_made(
    exp: Experiment, source: Callable[..., Path]
) -> None:
    folder = source({"train.py": "print('hi')\n"})
    ComputeTarget.create(exp.workspace, "box", ComputeInstance.provisioning_configuration())
    with pytest.raises(ValidationError, match=r"unknown compute target 'nowhere'.*box"):
        exp.submit(ScriptRunConfig(folder, "train.py", compute_target="nowhere"))
    assert list(exp.get_runs()) == []


def _cli(ws: Path, home: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "RUNHISTORY_HOME": str(home),
           "RUNHISTORY_TRACKING_URI": str(ws), "RUNHISTORY_QUIET": "1"}  # fmt: skip
    done = subprocess.run([str(EXE), *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == code, f"{args}: {done.stdout}\n{done.stderr}"
    return done


def test_cli_attach_list_show_detach(tmp_path: Path) -> None:
    ws, home = tmp_path / "ws", tmp_path / "home"
    Workspace(path=ws)
    refused = _cli(ws, home, "compute", "attach", "ray", "--name", "far", "--address",
                   "http://127.0.0.1:9", code=1)  # fmt: skip
    assert "does not answer" in refused.stderr or "cannot list" in refused.stderr
    _cli(ws, home, "compute", "attach", "ray", "--name", "far", "--address",
         "http://127.0.0.1:9", "--no-check")  # fmt: skip
    listed = json.loads(_cli(ws, home, "compute", "list", "-o", "json").stdout)
    assert [(t["name"], t["kind"]) for t in listed] == [("local", "local"), ("far", "ray")]
    shown = json.loads(_cli(ws, home, "compute", "show", "far", "-o", "json").stdout)
    assert shown["address"] == "http://127.0.0.1:9" and shown["state"] == "Unreachable"
    _cli(ws, home, "compute", "detach", "far", "-y")
    missing = _cli(ws, home, "compute", "show", "far", code=1)
    assert "'far' not found" in missing.stderr
