"""Environments of submitted jobs: cached venvs, user-managed interpreters, conda refusal."""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from runhistory import Environment, Experiment, ScriptRunConfig
from runhistory.compute.envbuild import EnvironmentBuildError, plan_environment
from runhistory.sdk.environment import CondaDependencies

USES_PACKAGE = """
    import sys
    from runhistory import Run
    import tinydep

    run = Run.get_context()
    run.log("answer", tinydep.ANSWER)
    print("python", sys.executable)
"""


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(folder: Path) -> Path:
    """A real, minimal wheel of package ``tinydep`` 0.1 (written by hand, no build tools)."""
    files = {
        "tinydep/__init__.py": b"ANSWER = 42\n",
        "tinydep-0.1.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tinydep\nVersion: 0.1\n",
        "tinydep-0.1.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = [_record_line(name, data) for name, data in files.items()]
    record.append("tinydep-0.1.dist-info/RECORD,,")
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / "tinydep-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("tinydep-0.1.dist-info/RECORD", "\n".join(record) + "\n")
    return wheel


def _venv_environment(wheels: Path) -> Environment:
    env = Environment("tiny")
    deps = CondaDependencies.create(pip_packages=["tinydep==0.1"])
    deps.set_pip_option("--no-index")
    deps.set_pip_option(f"--find-links {wheels}")
    env.python.conda_dependencies = deps
    return env


def test_pip_environment_is_built_once_and_reused(
    exp: Experiment, source: Callable[..., Path], tmp_path: Path, isolated_home: Path
) -> None:
    wheels = tmp_path / "wheels"
    build_wheel(wheels)
    folder = source({"use.py": USES_PACKAGE})
    started = time.monotonic()
    first = exp.submit(ScriptRunConfig(folder, "use.py", environment=_venv_environment(wheels)))
    first.wait_for_completion()
    built_in = time.monotonic() - started
    assert first.get_metrics() == {"answer": 42}
    environment = first.get_environment()
    assert environment["build"]["kind"] == "venv"
    interpreter = environment["python"]["interpreterPath"]
    assert interpreter.startswith(str(isolated_home / "envs")) and interpreter != sys.executable
    assert environment["python"]["packages"]["tinydep"] == "0.1"
    assert environment["definition"]["name"] == "tiny"

    second = exp.submit(ScriptRunConfig(folder, "use.py", environment=_venv_environment(wheels)))
    second.wait_for_completion()
    assert second.get_environment()["python"]["interpreterPath"] == interpreter
    logs = second.get_details_with_logs()["logFiles"]
    assert "reusing environment 'tiny'" in logs["logs/prepare_log.txt"]
    assert len([p for p in os.listdir(isolated_home / "envs") if not p.endswith(".lock")]) == 1
    assert built_in < 30


def test_failing_pip_install_fails_the_run_with_its_output(
    exp: Experiment, source: Callable[..., Path], tmp_path: Path
) -> None:
    env = Environment("unavailable")
    deps = CondaDependencies.create(pip_packages=["no-such-package-here==9.9"])
    deps.set_pip_option("--no-index")
    env.python.conda_dependencies = deps
    folder = source({"use.py": "print(1)\n"})
    run = exp.submit(ScriptRunConfig(folder, "use.py", environment=env))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Failed"
    assert "building the environment failed" in details["error"]["message"]
    assert "no-such-package-here" in details["error"]["message"]
    assert "logs/prepare_log.txt" in details["logFiles"]


def test_user_managed_environment_uses_the_named_interpreter(
    exp: Experiment, source: Callable[..., Path]
) -> None:
    env = Environment("mine")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = sys.executable
    folder = source({"who.py": "import sys\nprint('python is', sys.executable)\n"})
    run = exp.submit(ScriptRunConfig(folder, "who.py", environment=env))
    run.wait_for_completion()
    assert run.get_environment()["build"] == {"kind": "user-managed", "interpreter": sys.executable}
    missing = Environment("missing")
    missing.python.user_managed_dependencies = True
    missing.python.interpreter_path = "/no/such/python"
    with pytest.raises(EnvironmentBuildError, match="/no/such/python"):
        exp.submit(ScriptRunConfig(folder, "who.py", environment=missing))


def test_conda_packages_without_conda_come_from_pip_and_another_python_is_refused(
    exp: Experiment, source: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable))  # no conda on PATH
    env = Environment("needs-conda")
    env.python.conda_dependencies = CondaDependencies.create(
        conda_packages=["scikit-learn", "pytorch=2.1", "cudatoolkit=11.8", "numpy>=1.20"]
    )
    plan = plan_environment(env.to_dict())
    assert plan.kind == "venv"
    assert plan.pip == ("scikit-learn", "torch==2.1.*", "numpy>=1.20")
    assert "scikit-learn -> scikit-learn, pytorch=2.1 -> torch==2.1.*" in plan.notes[0]
    assert "cudatoolkit=11.8" in plan.notes[1]
    env.python.conda_dependencies.set_python_version("2.7")
    folder = source({"a.py": "print(1)\n"})
    with pytest.raises(EnvironmentBuildError, match=r"conda packages \[.*'python=2.7'\]"):
        exp.submit(ScriptRunConfig(folder, "a.py", environment=env))
    assert list(exp.get_runs()) == []


def test_plans_for_common_definitions() -> None:
    assert plan_environment(None).kind == "current"
    default = plan_environment(Environment("d").to_dict())
    assert default.kind == "current" and default.skipped == ("azureml-defaults",)
    env = Environment("p")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["a==1", "b"])
    plan = plan_environment(env.to_dict())
    other = Environment("q")
    other.python.conda_dependencies = CondaDependencies.create(pip_packages=["a==1", "b"])
    assert plan.kind == "venv" and plan.key == plan_environment(other.to_dict()).key
    other.python.conda_dependencies.add_pip_package("c")
    assert plan.key != plan_environment(other.to_dict()).key
