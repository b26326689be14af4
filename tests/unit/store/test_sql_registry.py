"""SqlTrackingStore: the file index, registered models and secrets."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from runhistory.errors import NotFoundError
from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import FileInfo, RunInfo

MakeRun = Callable[..., RunInfo]
SHA = "ab" * 32


# ---- files ---------------------------------------------------------------------------------
def test_file_entries(store: SqlTrackingStore, make_run: MakeRun) -> None:
    make_run("r")
    for name in ("outputs/model.pkl", "logs/std_log.txt", "outputs/sub/x", "Outputs/upper"):
        store.put_file_entry("r", name, 10, SHA, 1.0)
    store.put_file_entry("r", "outputs/model.pkl", 20, "cd" * 32, 2.0)  # overwrite
    assert store.get_file_entry("r", "outputs/model.pkl") == FileInfo(
        "r", "outputs/model.pkl", 20, "cd" * 32, 2.0
    )
    names = [f.name for f in store.list_file_entries("r")]
    assert names == sorted(names) and len(names) == 4
    assert [f.name for f in store.list_file_entries("r", prefix="outputs/")] == [
        "outputs/model.pkl", "outputs/sub/x",
    ]  # fmt: skip
    assert store.list_file_entries("r", prefix="out_%") == []
    store.delete_file_entries("r")
    assert store.list_file_entries("r") == []


def test_file_entry_errors(store: SqlTrackingStore, make_run: MakeRun) -> None:
    make_run("r")
    with pytest.raises(NotFoundError, match="no file 'nope' in run 'r'"):
        store.get_file_entry("r", "nope")
    with pytest.raises(NotFoundError, match="no run with id 'ghost'"):
        store.put_file_entry("ghost", "f", 1, SHA, 1.0)
    with pytest.raises(NotFoundError):
        store.list_file_entries("ghost")
    with pytest.raises(NotFoundError):
        store.delete_file_entries("ghost")


# ---- models --------------------------------------------------------------------------------
def test_model_versions_count_up(store: SqlTrackingStore) -> None:
    first = store.create_model_version(
        "clf",
        1.0,
        run_id="r",
        experiment_name="exp",
        description="d",
        framework="ScikitLearn",
        framework_version="1.4",
        tags={"a": "1", "b": None},
        properties={"p": "1"},
        files=["outputs/z.pkl", "outputs/a.json"],
    )
    assert (first.name, first.version, first.model_id) == ("clf", 1, "clf:1")
    assert (first.run_id, first.experiment_name, first.description) == ("r", "exp", "d")
    assert (first.framework, first.framework_version) == ("ScikitLearn", "1.4")
    assert (first.tags, first.properties) == ({"a": "1", "b": None}, {"p": "1"})
    assert first.files == ["outputs/z.pkl", "outputs/a.json"]
    assert store.create_model_version("clf", 2.0).version == 2
    assert store.create_model_version("other", 3.0).version == 1
    assert store.get_model("clf", 1) == first
    assert store.get_model("clf").version == 2


def test_list_models(store: SqlTrackingStore) -> None:
    for name, run_id in (("b", "r1"), ("a", "r1"), ("b", "r2"), ("a", "r2"), ("b", "r1")):
        store.create_model_version(name, 1.0, run_id=run_id)
    assert [m.model_id for m in store.list_models()] == ["a:2", "a:1", "b:3", "b:2", "b:1"]
    assert [m.model_id for m in store.list_models(latest=True)] == ["a:2", "b:3"]
    assert [m.model_id for m in store.list_models(name="b")] == ["b:3", "b:2", "b:1"]
    assert [m.model_id for m in store.list_models(run_id="r1")] == ["a:1", "b:3", "b:1"]
    assert [m.model_id for m in store.list_models(run_id="r1", latest=True)] == ["a:1", "b:3"]


def test_update_and_delete_model(store: SqlTrackingStore) -> None:
    store.create_model_version("m", 1.0, tags={"a": "1", "b": "2"}, properties={"p": "1"})
    updated = store.update_model(
        "m", 1, tags={"a": "9", "c": None}, remove_tags=["b"], properties={"p": "x", "q": "2"}
    )
    assert updated.tags == {"a": "9", "c": None}
    assert updated.properties == {"p": "1", "q": "2"}
    assert updated.description is None
    assert store.update_model("m", 1, description="new").description == "new"
    assert store.update_model("m", 1).tags == {"a": "9", "c": None}
    store.create_model_version("m", 2.0)
    store.delete_model("m", 1)
    assert [m.model_id for m in store.list_models()] == ["m:2"]
    assert store.create_model_version("m", 3.0).version == 3


def test_missing_models(store: SqlTrackingStore) -> None:
    with pytest.raises(NotFoundError, match="no model named 'x'"):
        store.get_model("x")
    store.create_model_version("x", 1.0)
    with pytest.raises(NotFoundError, match="no model 'x' with version 2"):
        store.get_model("x", 2)
    with pytest.raises(NotFoundError):
        store.update_model("x", 2, tags={"a": "b"})
    with pytest.raises(NotFoundError):
        store.delete_model("x", 2)


# ---- secrets -------------------------------------------------------------------------------
def test_secrets(store: SqlTrackingStore) -> None:
    assert store.list_secret_names() == []
    store.set_secret("b", b"\x00\xffcipher", 1.0)
    store.set_secret("a", b"one", 1.0)
    store.set_secret("a", b"two", 2.0)
    assert store.get_secret("a") == b"two"
    assert store.get_secret("b") == b"\x00\xffcipher"
    assert store.list_secret_names() == ["a", "b"]
    store.delete_secret("a")
    assert store.list_secret_names() == ["b"]
    with pytest.raises(NotFoundError, match="no secret named 'a'"):
        store.get_secret("a")
    with pytest.raises(NotFoundError):
        store.delete_secret("a")
