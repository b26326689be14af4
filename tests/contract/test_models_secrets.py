"""Registered models (from runs and local files) and the workspace secret store."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from runhistory import Experiment, Model, Run, Workspace
from runhistory.errors import ConflictError, NotFoundError


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def run(experiment: Experiment, tmp_path: Path) -> Run:
    """A run holding outputs/model.pkl, outputs/net/{weights.bin,config/cfg.json}, clf.pkl."""
    run = experiment.start_logging(outputs=False)
    src = tmp_path / "src"
    run.upload_file("outputs/model.pkl", str(_write(src / "model.pkl", "pickled")))
    run.upload_file("outputs/net/weights.bin", str(_write(src / "w.bin", "W")))
    run.upload_file("outputs/net/config/cfg.json", str(_write(src / "cfg.json", "{}")))
    run.upload_file("outputs/network.txt", str(_write(src / "network.txt", "not in net/")))
    run.upload_file("clf", str(_write(src / "clf", "classifier")))
    return run


# ---- registering from a run -----------------------------------------------------------
def test_register_a_file(run: Run, tmp_path: Path) -> None:
    model = run.register_model("pickled-model", model_path="outputs/model.pkl")
    assert (model.name, model.version, model.id) == ("pickled-model", 1, "pickled-model:1")
    assert model.run_id == run.id
    assert model.experiment_name == run.experiment.name
    path = model.download(str(tmp_path / "dl"))
    assert Path(path) == tmp_path / "dl" / "model.pkl"
    assert Path(path).read_text() == "pickled"


def test_register_a_folder_covers_files_under_it_only(run: Run, tmp_path: Path) -> None:
    model = run.register_model("net", model_path="outputs/net")
    assert model.serialize()["files"] == ["net/config/cfg.json", "net/weights.bin"]
    path = model.download(str(tmp_path / "dl"))
    assert Path(path) == tmp_path / "dl" / "net"
    assert (tmp_path / "dl" / "net" / "weights.bin").read_text() == "W"
    assert (tmp_path / "dl" / "net" / "config" / "cfg.json").read_text() == "{}"
    assert not (tmp_path / "dl" / "network.txt").exists()


def test_model_path_defaults_to_model_name(run: Run) -> None:
    model = run.register_model("clf")
    assert model.serialize()["files"] == ["clf"]


def test_model_path_matching_nothing_lists_the_run_files(run: Run) -> None:
    with pytest.raises(NotFoundError) as caught:
        run.register_model("ghost", model_path="outputs/ghost.pkl")
    message = str(caught.value)
    assert "outputs/ghost.pkl" in message
    assert "outputs/model.pkl" in message and "clf" in message
    assert Model.list(run.experiment.workspace, name="ghost") == []


def test_register_model_records_metadata(run: Run) -> None:
    model = run.register_model(
        "described",
        model_path="outputs/model.pkl",
        tags={"stage": "dev"},
        properties={"accuracy": "0.9"},
        model_framework=Model.Framework.SCIKITLEARN,
        model_framework_version="1.4",
        description="a classifier",
    )
    again = Model(run.experiment.workspace, "described")
    for found in (model, again):
        assert found.tags == {"stage": "dev"}
        assert found.properties == {"accuracy": "0.9"}
        assert found.model_framework == "ScikitLearn"
        assert found.model_framework_version == "1.4"
        assert found.description == "a classifier"
        assert found.created_time is not None


def test_versions_count_up_per_name(run: Run) -> None:
    versions = [run.register_model("a-model", "outputs/model.pkl").version for _ in range(3)]
    assert versions == [1, 2, 3]
    assert run.register_model("b-model", "outputs/model.pkl").version == 1


# ---- finding models -------------------------------------------------------------------
@pytest.fixture
def registered(run: Run) -> Workspace:
    """a-model v1 (tag stage=dev), v2 (stage=prod, property p=1); b-model v1 (from a file)."""
    run.register_model("a-model", "outputs/model.pkl", tags={"stage": "dev"})
    run.register_model(
        "a-model", "outputs/model.pkl", tags={"stage": "prod"}, properties={"p": "1"}
    )
    run.register_model("b-model", "clf")
    return run.experiment.workspace


def test_model_by_name_is_the_latest_version(registered: Workspace) -> None:
    assert Model(registered, "a-model").version == 2


def test_model_by_name_and_version(registered: Workspace) -> None:
    model = Model(registered, "a-model", version=1)
    assert model.version == 1 and model.tags == {"stage": "dev"}


def test_model_by_id(registered: Workspace) -> None:
    model = Model(registered, id="a-model:1")
    assert (model.name, model.version) == ("a-model", 1)


def test_unknown_model_is_not_found(registered: Workspace) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        Model(registered, "nope")
    with pytest.raises(NotFoundError):
        Model(registered, "a-model", version=9)


def _ids(models: list[Model]) -> list[str]:
    return sorted(m.id for m in models)


def test_model_list_filters(registered: Workspace, run: Run, experiment: Experiment) -> None:
    assert _ids(Model.list(registered)) == ["a-model:1", "a-model:2", "b-model:1"]
    assert _ids(Model.list(registered, name="a-model")) == ["a-model:1", "a-model:2"]
    assert _ids(Model.list(registered, tags=["stage"])) == ["a-model:1", "a-model:2"]
    assert _ids(Model.list(registered, tags=[["stage", "prod"]])) == ["a-model:2"]
    assert _ids(Model.list(registered, properties=["p"])) == ["a-model:2"]
    assert _ids(Model.list(registered, latest=True)) == ["a-model:2", "b-model:1"]
    assert _ids(Model.list(registered, run_id=run.id)) == ["a-model:1", "a-model:2", "b-model:1"]
    other = experiment.start_logging(outputs=False)
    assert Model.list(registered, run_id=other.id) == []


def test_model_list_latest_applies_to_the_matching_versions(registered: Workspace) -> None:
    assert _ids(Model.list(registered, tags=[["stage", "dev"]], latest=True)) == ["a-model:1"]


def test_workspace_models_maps_names_to_latest(registered: Workspace) -> None:
    assert {n: m.version for n, m in registered.models.items()} == {"a-model": 2, "b-model": 1}


# ---- download -------------------------------------------------------------------------
def test_download_refuses_existing_files_unless_exist_ok(
    registered: Workspace, tmp_path: Path
) -> None:
    model = Model(registered, "a-model")
    target = tmp_path / "target"
    _write(target / "model.pkl", "stale")
    with pytest.raises(ConflictError, match=r"model\.pkl"):
        model.download(str(target), exist_ok=False)
    assert (target / "model.pkl").read_text() == "stale"
    path = model.download(str(target), exist_ok=True)
    assert Path(path).read_text() == "pickled"


# ---- Model.register from local files --------------------------------------------------
def test_register_a_local_file(workspace: Workspace, tmp_path: Path) -> None:
    source = _write(tmp_path / "local.onnx", "onnx bytes")
    model = Model.register(workspace, str(source), "local-model", tags={"src": "disk"})
    assert (model.version, model.run_id, model.tags) == (1, None, {"src": "disk"})
    assert Model.register(workspace, str(source), "local-model").version == 2
    path = model.download(str(tmp_path / "dl"))
    assert Path(path).read_text() == "onnx bytes"


def test_register_a_local_folder(workspace: Workspace, tmp_path: Path) -> None:
    _write(tmp_path / "bundle" / "a.txt", "a")
    _write(tmp_path / "bundle" / "sub" / "b.txt", "b")
    model = Model.register(workspace, str(tmp_path / "bundle"), "bundle")
    assert model.serialize()["files"] == ["bundle/a.txt", "bundle/sub/b.txt"]
    path = model.download(str(tmp_path / "dl"))
    assert (Path(path) / "sub" / "b.txt").read_text() == "b"


def test_register_a_missing_local_path(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="missing"):
        Model.register(workspace, str(tmp_path / "missing"), "ghost")


# ---- updating and deleting ------------------------------------------------------------
def test_tags_properties_and_description(registered: Workspace) -> None:
    model = Model(registered, "b-model")
    model.add_tags({"team": "vision", "stage": "dev"})
    model.remove_tags(["stage"])
    model.add_properties({"auc": "0.8"})
    model.update(description="updated")
    again = Model(registered, "b-model", version=1)
    assert again.tags == {"team": "vision"}
    assert again.properties == {"auc": "0.8"}
    assert again.description == "updated"
    model.add_properties({"auc": "0.8"})  # same value: no-op
    with pytest.raises(ConflictError, match="auc"):
        model.add_properties({"auc": "0.9"})


def test_delete_a_version(registered: Workspace) -> None:
    Model(registered, "a-model", version=2).delete()
    assert _ids(Model.list(registered, name="a-model")) == ["a-model:1"]
    assert Model(registered, "a-model").version == 1
    with pytest.raises(NotFoundError):
        Model(registered, "a-model", version=2)


def test_serialize_and_deserialize(registered: Workspace) -> None:
    model = Model(registered, "a-model", version=2)
    payload = model.serialize()
    assert payload["id"] == "a-model:2" and payload["tags"] == {"stage": "prod"}
    back = Model.deserialize(registered, payload)
    assert (back.id, back.tags, back.properties) == (model.id, model.tags, model.properties)


# ---- secrets --------------------------------------------------------------------------
def test_set_get_list_delete_secrets(workspace: Workspace) -> None:
    vault = workspace.get_default_keyvault()
    vault.set_secret("db-password", "hunter2")
    vault.set_secrets({"api-key": "k-123", "token": "t-456"})
    assert vault.get_secret("db-password") == "hunter2"
    assert vault.get_secrets(["api-key", "token"]) == {"api-key": "k-123", "token": "t-456"}
    listed = vault.list_secrets()
    assert sorted(s["name"] for s in listed) == ["api-key", "db-password", "token"]
    assert all(set(s) == {"name"} for s in listed)
    vault.set_secret("token", "t-789")
    assert vault.get_secret("token") == "t-789"
    vault.delete_secret("token")
    assert sorted(s["name"] for s in vault.list_secrets()) == ["api-key", "db-password"]
    with pytest.raises(NotFoundError, match="token"):
        vault.get_secret("token")


def test_run_reads_secrets(workspace: Workspace, experiment: Experiment) -> None:
    workspace.get_default_keyvault().set_secrets({"user": "alice", "password": "s3cr3t"})
    run = experiment.start_logging(outputs=False)
    assert run.get_secret("password") == "s3cr3t"
    assert run.get_secrets(["user", "password"]) == {"user": "alice", "password": "s3cr3t"}


def test_unknown_secret_is_not_found(workspace: Workspace, experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    with pytest.raises(NotFoundError, match="no secret named 'missing'"):
        run.get_secret("missing")


def test_secret_values_never_listed(workspace: Workspace) -> None:
    vault = workspace.get_default_keyvault()
    vault.set_secret("visible-name", "INVISIBLE-VALUE-4711")
    assert "INVISIBLE-VALUE-4711" not in repr(vault.list_secrets())
    assert "INVISIBLE-VALUE-4711" not in repr(vault)


def test_secret_key_file_is_private(workspace: Workspace, backend_name: str) -> None:
    workspace.get_default_keyvault().set_secret("k", "v")
    key_path = workspace._connection.location.secret_key_path
    if backend_name == "server":  # the key stays on the server: a client never holds it
        assert key_path is None
        return
    assert key_path is not None
    assert stat.S_IMODE(Path(key_path).stat().st_mode) == 0o600


def test_local_workspace_keeps_its_key_in_secrets_key(tmp_path: Path) -> None:
    workspace = Workspace(path=tmp_path / "local-ws")
    workspace.get_default_keyvault().set_secret("db", "PLAINTEXT-SENTINEL-93817")
    key_file = tmp_path / "local-ws" / "secrets.key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_secret_values_are_not_plaintext_in_the_sqlite_file(tmp_path: Path) -> None:
    folder = tmp_path / "local-ws"
    workspace = Workspace(path=folder)
    value = "PLAINTEXT-SENTINEL-93817"
    workspace.get_default_keyvault().set_secret("db", value)
    assert workspace.get_default_keyvault().get_secret("db") == value
    database_files = list(folder.glob("runhistory.db*"))  # the database and its WAL
    assert folder / "runhistory.db" in database_files
    for path in database_files:
        raw = path.read_bytes()
        assert value.encode() not in raw, f"secret found in plaintext in {path.name}"
        assert value.encode("utf-16-le") not in raw
    assert b"db" in b"".join(p.read_bytes() for p in database_files)  # the name is stored
