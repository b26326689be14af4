"""The ``azureml.core`` alias: unmodified scripts of the original SDK run on runhistory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from runhistory import Experiment, Workspace

# name in azureml.core -> the runhistory module that must provide it
EXPECTED = {
    "Workspace": "runhistory.sdk.workspace",
    "Experiment": "runhistory.sdk.experiment",
    "Run": "runhistory.sdk.run",
    "Model": "runhistory.sdk.model",
    "ScriptRunConfig": "runhistory.sdk.script_run_config",
    "Environment": "runhistory.sdk.environment",
}


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_alias_resolves_azureml_core_names_to_runhistory(tmp_path: Path) -> None:
    names = ", ".join(EXPECTED)
    result = _python(
        f"""
        import json
        import runhistory.compat.azureml as alias
        assert alias.install(), "the alias was not installed"
        from azureml.core import {names}
        from azureml.core.run import Run as RunFromRun
        from azureml.core.model import Model as ModelFromModel
        found = {{n: f"{{c.__module__}}.{{c.__qualname__}}" for n, c in [{
            ", ".join(f"({n!r}, {n})" for n in EXPECTED)
        }]}}
        found["run.Run"] = RunFromRun is Run
        found["model.Model"] = ModelFromModel is Model
        print(json.dumps(found))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    for name, module in EXPECTED.items():
        assert found[name] == f"{module}.{name}"
    assert found["run.Run"] is True
    assert found["model.Model"] is True


def test_alias_names_what_it_does_not_provide(tmp_path: Path) -> None:
    result = _python(
        """
        import runhistory.compat.azureml as alias
        alias.install()
        import azureml.core
        azureml.core.NoSuchThing
        """,
        tmp_path,
    )
    assert result.returncode != 0
    assert "has no attribute 'NoSuchThing'" in result.stderr
    assert "runhistory provides:" in result.stderr


def test_python_m_runs_an_unmodified_script(tmp_path: Path, isolated_home: Path) -> None:
    script = tmp_path / "train_model.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            from azureml.core import Run

            run = Run.get_context()
            run.log("accuracy", 0.93)
            run.log("epochs", int(sys.argv[1]))
            print("logged to", run.id)
            """
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "runhistory.compat.azureml", str(script), "7"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    runs = list(Experiment(Workspace(), "train_model").get_runs())
    assert len(runs) == 1
    assert f"logged to {runs[0].id}" in result.stdout
    assert runs[0].get_metrics() == {"accuracy": 0.93, "epochs": 7}
    assert runs[0].get_status() == "Completed"


def test_python_m_without_a_script_prints_usage(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "runhistory.compat.azureml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "usage: python -m runhistory.compat.azureml SCRIPT" in result.stderr


def test_alias_modules_cover_the_samples_imports(tmp_path: Path) -> None:
    result = _python(
        """
        import runhistory.compat.azureml as alias
        alias.install()
        import azureml.core
        from azureml.core import Dataset, Datastore, Environment, ScriptRunConfig
        from azureml.core.run import Run, _OfflineRun
        from azureml.core.runconfig import DockerConfiguration, PyTorchConfiguration
        from azureml.core.environment import CondaDependencies
        from azureml.core.conda_dependencies import CondaDependencies as Same
        from azureml.core.webservice import AciWebservice
        from azureml.core.model import InferenceConfig
        from azureml.telemetry import set_diagnostics_collection
        from azureml.tensorboard import export_to_tensorboard
        from azureml.exceptions import UserErrorException
        assert CondaDependencies is Same and azureml.core.VERSION
        set_diagnostics_collection(send_diagnostics=True)
        try:
            Dataset.get_by_name(None, "mnist")
        except UserErrorException as error:
            print("refused:", error)
        try:
            AciWebservice.deploy_configuration(cpu_cores=1)
        except ValueError as error:
            print("refused:", error)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "refused: azureml Dataset.get_by_name is a cloud feature" in result.stdout
    assert "read your data from a local path" in result.stdout
    assert "refused: azureml AciWebservice.deploy_configuration" in result.stdout
