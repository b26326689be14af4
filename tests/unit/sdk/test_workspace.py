"""Workspace: config files, the default workspace, named local workspaces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runhistory import Experiment, Workspace
from runhistory.errors import ConfigurationError, NotFoundError

ORIGINAL_CONFIG = {
    "subscription_id": "00000000-1111-2222-3333-444444444444",
    "resource_group": "ml-rg",
    "workspace_name": "team-ws",
}


def _config(folder: Path, relative: str, content: dict[str, str]) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


# ---- from_config ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "relative", [".runhistory/config.json", ".azureml/config.json", "config.json"]
)
def test_from_config_finds_each_file_name(tmp_path: Path, relative: str) -> None:
    project = tmp_path / "project"
    _config(project, relative, {"tracking_uri": str(tmp_path / "store")})
    workspace = Workspace.from_config(str(project))
    assert workspace.tracking_uri == str(tmp_path / "store")


def test_from_config_searches_parent_folders(tmp_path: Path) -> None:
    project = tmp_path / "project"
    _config(project, ".runhistory/config.json", {"tracking_uri": str(tmp_path / "store")})
    deep = project / "src" / "models"
    deep.mkdir(parents=True)
    assert Workspace.from_config(str(deep)).tracking_uri == str(tmp_path / "store")


def test_from_config_defaults_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(tmp_path, "config.json", {"tracking_uri": str(tmp_path / "store")})
    sub = tmp_path / "sub"
    sub.mkdir()
    monkeypatch.chdir(sub)
    assert Workspace.from_config().tracking_uri == str(tmp_path / "store")


def test_runhistory_config_wins_over_azureml_config(tmp_path: Path) -> None:
    _config(tmp_path, ".runhistory/config.json", {"tracking_uri": str(tmp_path / "mine")})
    _config(tmp_path, ".azureml/config.json", ORIGINAL_CONFIG)
    assert Workspace.from_config(str(tmp_path)).tracking_uri == str(tmp_path / "mine")


def test_original_format_config_maps_to_a_named_local_workspace(
    tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _config(tmp_path, ".azureml/config.json", ORIGINAL_CONFIG)
    ws = Workspace.from_config(str(tmp_path))
    print(ws.name, ws.location, ws.subscription_id, ws.resource_group, sep="\n")
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["team-ws", "local", ORIGINAL_CONFIG["subscription_id"], "ml-rg"]
    assert ws.tracking_uri == str(isolated_home / "workspaces" / "team-ws")
    Experiment(ws, "first-experiment")
    assert (isolated_home / "workspaces" / "team-ws" / "runhistory.db").is_file()


def test_tracking_uri_environment_variable_overrides_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(tmp_path, "config.json", {"tracking_uri": str(tmp_path / "from-config")})
    monkeypatch.setenv("RUNHISTORY_TRACKING_URI", str(tmp_path / "from-env"))
    assert Workspace.from_config(str(tmp_path)).tracking_uri == str(tmp_path / "from-env")


def test_tracking_uri_environment_variable_overrides_original_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(tmp_path, "config.json", ORIGINAL_CONFIG)
    monkeypatch.setenv("RUNHISTORY_TRACKING_URI", str(tmp_path / "from-env"))
    assert Workspace.from_config(str(tmp_path)).tracking_uri == str(tmp_path / "from-env")


def test_no_config_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Workspace.from_config(str(tmp_path))
    message = str(caught.value)
    assert "no workspace config found" in message
    assert str(tmp_path) in message
    assert ".runhistory/config.json" in message


def test_malformed_config_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="cannot read workspace config"):
        Workspace.from_config(str(tmp_path))


def test_relative_tracking_uri_is_resolved_against_the_project_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    _config(project, ".runhistory/config.json", {"tracking_uri": "data/tracking"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (project / "src").mkdir()
    workspace = Workspace.from_config(str(project / "src"))
    assert workspace.tracking_uri == str(project / "data" / "tracking")


# ---- the default workspace -----------------------------------------------------------
def test_default_workspace_is_runhistory_home(isolated_home: Path) -> None:
    workspace = Workspace()
    assert workspace.name == "default"
    assert workspace.tracking_uri == str(isolated_home)
    Experiment(workspace, "in-default")
    assert (isolated_home / "runhistory.db").is_file()


def test_default_workspace_announces_itself_once(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RUNHISTORY_QUIET")
    Workspace()
    first = capsys.readouterr()
    assert first.err.strip() == f"runhistory: new local workspace at {isolated_home}"
    assert first.out == ""
    Workspace()
    assert capsys.readouterr().err == ""


def test_quiet_setting_silences_the_notice(capsys: pytest.CaptureFixture[str]) -> None:
    Workspace()
    assert capsys.readouterr().err == ""


# ---- named local workspaces ------------------------------------------------------------
def test_create_and_get_a_named_workspace(isolated_home: Path) -> None:
    created = Workspace.create("team-a")
    assert created.name == "team-a"
    assert created.tracking_uri == str(isolated_home / "workspaces" / "team-a")
    Experiment(created, "shared-exp")
    found = Workspace.get("team-a")
    assert found.tracking_uri == created.tracking_uri
    assert [e.name for e in Experiment.list(found)] == ["shared-exp"]
    assert "team-a" in Workspace.list()


def test_create_twice_needs_exist_ok() -> None:
    Workspace.create("team-b")
    with pytest.raises(ConfigurationError, match="exist_ok=True"):
        Workspace.create("team-b")
    assert Workspace.create("team-b", exist_ok=True).name == "team-b"


def test_get_of_an_unknown_workspace_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="no workspace named 'ghost'"):
        Workspace.get("ghost")


def test_get_default_is_the_default_workspace(isolated_home: Path) -> None:
    assert Workspace.get("default").tracking_uri == str(isolated_home)


# ---- write_config ------------------------------------------------------------------------
def test_write_config_round_trip(tmp_path: Path) -> None:
    original = Workspace(path=tmp_path / "store")
    Experiment(original, "written")
    project = tmp_path / "project"
    project.mkdir()
    written = original.write_config(str(project))
    assert Path(written) == project / ".runhistory" / "config.json"
    again = Workspace.from_config(str(project))
    assert again.tracking_uri == original.tracking_uri
    assert again.name == original.name
    assert [e.name for e in Experiment.list(again)] == ["written"]


def test_write_config_of_a_named_workspace(tmp_path: Path) -> None:
    named = Workspace.create("named-ws")
    named.write_config(str(tmp_path))
    again = Workspace.from_config(str(tmp_path))
    assert (again.name, again.tracking_uri) == ("named-ws", named.tracking_uri)
