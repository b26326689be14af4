"""RunConfiguration files, Environment and CondaDependencies objects, ScriptRunConfig options."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from runhistory import Environment, RunConfiguration, ScriptRunConfig
from runhistory.errors import NotFoundError, ValidationError
from runhistory.sdk.environment import CondaDependencies

ORIGINAL_STYLE = """
script: train.py
arguments: [--epochs, '3']
target: local
framework: Python
communicator: None
nodeCount: 1
maxRunDurationSeconds:
environment:
  name: project_environment
  environmentVariables:
    EXAMPLE_ENV_VAR: EXAMPLE_VALUE
  python:
    userManagedDependencies: false
    interpreterPath: python
    condaDependenciesFile: conda_dependencies.yml
    baseCondaEnvironment:
  docker:
    enabled: false
    baseImage: mcr.microsoft.com/azureml/base:intelmpi2018.3-ubuntu16.04
history:
  outputCollection: true
  snapshotProject: true
  directoriesToWatch:
  - logs
data: {}
"""

CONDA_YML = """
name: project_environment
dependencies:
  - python=3.11
  - pip:
    - azureml-defaults
    - requests==2.31.0
channels:
  - conda-forge
"""


def test_runconfig_round_trips_through_a_file(tmp_path: Path) -> None:
    config = RunConfiguration(script="train.py", arguments=["--lr", 0.1])
    config.target = "local"
    config.environment_variables = {"MODE": "fast"}
    config.environment.python.conda_dependencies = CondaDependencies.create(
        pip_packages=["requests==2.31.0"]
    )
    config.history.output_collection = False
    path = config.save(str(tmp_path), name="train")
    assert path == str(tmp_path / ".azureml" / "train.runconfig")
    loaded = RunConfiguration.load(str(tmp_path), name="train")
    assert loaded.to_dict() == config.to_dict()
    assert loaded.environment_variables == {"MODE": "fast"}
    assert "requests==2.31.0" in list(loaded.environment.python.conda_dependencies.pip_packages)
    assert RunConfiguration.load(path).script == "train.py"
    RunConfiguration.delete(str(tmp_path), "train")
    with pytest.raises(NotFoundError, match=r"train\.runconfig"):
        RunConfiguration.load(str(tmp_path), "train")


def test_runconfig_written_by_the_original_tools_loads(tmp_path: Path) -> None:
    folder = tmp_path / ".azureml"
    folder.mkdir()
    (folder / "sklearn.runconfig").write_text(textwrap.dedent(ORIGINAL_STYLE))
    (folder / "conda_dependencies.yml").write_text(textwrap.dedent(CONDA_YML))
    config = RunConfiguration.load(str(tmp_path), "sklearn")
    assert config.script == "train.py" and config.arguments == ["--epochs", "3"]
    assert config.environment.environment_variables == {"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE"}
    deps = config.environment.python.conda_dependencies
    assert list(deps.pip_packages) == ["azureml-defaults", "requests==2.31.0"]
    assert deps.get_python_version() == "3.11"
    assert config.to_dict()["data"] == {}  # unknown sections survive a save
    again = RunConfiguration.load(config.save(str(tmp_path / "copy.runconfig")))
    assert again.environment.docker.base_image.startswith("mcr.microsoft.com")


def test_runconfig_with_separate_environment_yaml(tmp_path: Path) -> None:
    config = RunConfiguration()
    config.environment.python.conda_dependencies.add_pip_package("tqdm")
    path = config.save(str(tmp_path), "split", separate_environment_yaml=True)
    assert (Path(path).parent / "environment.yml").is_file()
    assert "tqdm" in list(
        RunConfiguration.load(path).environment.python.conda_dependencies.pip_packages
    )


def test_runconfig_save_prefers_the_runhistory_folder_when_it_exists(tmp_path: Path) -> None:
    (tmp_path / ".runhistory").mkdir()
    path = RunConfiguration().save(str(tmp_path), "job")
    assert path == str(tmp_path / ".runhistory" / "job.runconfig")
    with pytest.raises(ValidationError, match="needs a name"):
        RunConfiguration().save(str(tmp_path))


def test_bad_runconfig_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.runconfig"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ValidationError, match="not a run configuration"):
        RunConfiguration.load(str(bad))


def test_conda_dependencies_editing() -> None:
    deps = CondaDependencies.create(
        pip_packages=["numpy==1.26.4"], conda_packages=["scipy"], python_version="3.10"
    )
    deps.add_pip_package("numpy==2.0.0")  # replaces by name
    deps.set_pip_option("--index-url https://example.invalid/simple")
    deps.add_channel("conda-forge")
    assert list(deps.pip_packages) == ["azureml-defaults", "numpy==2.0.0"]
    assert list(deps.pip_options) == ["--index-url https://example.invalid/simple"]
    assert list(deps.conda_packages) == ["scipy"]
    assert deps.get_python_version() == "3.10"
    deps.remove_pip_package("numpy")
    deps.remove_conda_package("scipy")
    assert list(deps.pip_packages) == ["azureml-defaults"] and list(deps.conda_packages) == []
    assert "azureml-defaults" in deps.serialize_to_string()


def test_environment_directory_round_trip_and_constructors(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# deps\n--find-links ./wheels\nrequests>=2\n\n")
    env = Environment.from_pip_requirements("reqs", str(requirements))
    assert list(env.python.conda_dependencies.pip_packages) == ["requests>=2"]
    assert list(env.python.conda_dependencies.pip_options) == ["--find-links ./wheels"]
    env.environment_variables["A"] = "1"
    env.save_to_directory(str(tmp_path / "env"))
    loaded = Environment.load_from_directory(str(tmp_path / "env"))
    assert loaded.to_dict() == env.to_dict()
    with pytest.raises(ValidationError, match="overwrite=True"):
        env.save_to_directory(str(tmp_path / "env"))
    twin = env.clone("twin")
    assert twin.name == "twin" and twin.environment_variables == {"A": "1"}
    conda_file = tmp_path / "environment.yml"
    conda_file.write_text(textwrap.dedent(CONDA_YML))
    from_conda = Environment.from_conda_specification("c", str(conda_file))
    assert "requests==2.31.0" in list(from_conda.python.conda_dependencies.pip_packages)


def test_cloud_only_environment_members_explain_themselves() -> None:
    with pytest.raises(ValidationError, match="needs a Workspace"):
        Environment("x").register(None)
    with pytest.raises(ValidationError, match="no environment labels"):
        Environment.label(None, "x", "1", ["prod"])
    with pytest.raises(ValidationError, match="without Docker"):
        Environment.from_docker_image("x", "ubuntu:22.04")
    with pytest.raises(ValidationError, match="non-empty name"):
        Environment("")


def test_script_run_config_fills_its_run_configuration(tmp_path: Path) -> None:
    env = Environment("mine")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = sys.executable
    base = RunConfiguration()
    config = ScriptRunConfig(
        str(tmp_path),
        "train.py",
        arguments=["--n", 2],
        run_config=base,
        compute_target="local",
        environment=env,
        max_run_duration_seconds=60,
    )
    assert config.run_config.script == "train.py"
    assert config.run_config.arguments == ["--n", 2]
    assert config.run_config.environment is env and config.environment is env
    assert config.run_config.max_run_duration_seconds == 60
    assert config.target == "local" and base.script is None  # the given one is not changed
    assert "train.py" in config.identity
