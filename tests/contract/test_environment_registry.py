"""The environment registry on every backend: versions, unchanged definitions, listings."""

from __future__ import annotations

import pytest

from runhistory import Environment, Workspace
from runhistory.errors import InvalidNameError, NotFoundError, ValidationError
from runhistory.sdk.conda_dependencies import CondaDependencies


def _env(name: str, *pip: str) -> Environment:
    env = Environment(name)
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=list(pip))
    env.environment_variables = {"MODE": "test"}
    return env


def test_versions_count_up_and_an_unchanged_definition_keeps_its_version(
    workspace: Workspace,
) -> None:
    env = _env("sklearn-env", "scikit-learn")
    first = env.register(workspace)
    assert first.version == "1" and env.version == "1"
    assert env.register(workspace).version == "1"
    env.python.conda_dependencies.add_pip_package("pandas")
    assert env.register(workspace).version == "2"
    assert Environment.get(workspace, "sklearn-env").version == "2"
    old = Environment.get(workspace, "sklearn-env", version="1")
    assert "pandas" not in list(old.python.conda_dependencies.pip_packages)
    assert old.environment_variables == {"MODE": "test"}


def test_listings_hold_the_newest_version_of_each_name_and_the_curated_names(
    workspace: Workspace,
) -> None:
    _env("a-env", "requests").register(workspace)
    second = _env("a-env", "requests", "httpx")
    second.register(workspace)
    _env("b-env").register(workspace)
    listed = Environment.list(workspace)
    assert listed["a-env"].version == "2" and listed["b-env"].version == "1"
    assert "AzureML-Minimal" in listed
    assert workspace.environments.keys() == listed.keys()


def test_curated_names_resolve_to_this_interpreter_unless_registered(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    curated = Environment.get(workspace, "azureml-sklearn-1.5")
    assert curated.python.user_managed_dependencies is True
    assert "local equivalent" in capsys.readouterr().err
    mine = _env("AzureML-sklearn-1.5", "scikit-learn")
    mine.register(workspace)
    assert Environment.get(workspace, "AzureML-sklearn-1.5").version == "1"


def test_missing_names_versions_and_bad_input_are_clear(workspace: Workspace) -> None:
    with pytest.raises(NotFoundError, match="no registered environment 'nothing'"):
        Environment.get(workspace, "nothing")
    _env("one").register(workspace)
    with pytest.raises(NotFoundError, match="version 7"):
        Environment.get(workspace, "one", version="7")
    with pytest.raises(ValidationError, match="positive number"):
        Environment.get(workspace, "one", version="latest-ish")
    with pytest.raises(InvalidNameError, match="invalid environment name"):
        _env("no spaces please").register(workspace)
    backend = workspace._connection.backend
    with pytest.raises(ValidationError, match="JSON object"):
        backend.register_environment("one", ["not", "a", "dict"])
