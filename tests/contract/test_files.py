"""Run files: upload, download, path safety, the outputs folder, logs and snapshots."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import pytest

from runhistory import Experiment, Run
from runhistory.errors import (
    ConflictError,
    NotFoundError,
    UnsafePathError,
    ValidationError,
)
from runhistory.tracking import status as st

UNSAFE_NAMES = ["..", "a/../../b", "/etc/passwd"]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def run(experiment: Experiment, tmp_path: Path) -> Run:
    """A running interactive run whose outputs folder is empty."""
    return experiment.start_logging(outputs=str(tmp_path / "no-outputs"))


# ---- upload ---------------------------------------------------------------------------
def test_upload_file_from_path(run: Run, tmp_path: Path) -> None:
    source = _write(tmp_path / "model.txt", "weights")
    info = run.upload_file("outputs/model.txt", str(source))
    assert info.name == "outputs/model.txt"
    assert info.size == len("weights")
    assert run.get_file_names() == ["outputs/model.txt"]


def test_upload_file_from_binary_stream(run: Run, tmp_path: Path) -> None:
    info = run.upload_file("data/blob.bin", io.BytesIO(b"\x00\x01binary"))
    assert info.size == 8
    target = run.download_file("data/blob.bin", str(tmp_path / "blob.bin"))
    assert Path(target).read_bytes() == b"\x00\x01binary"


def test_upload_files_pairs_names_with_paths(run: Run, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.txt", "A")
    b = _write(tmp_path / "b.txt", "B")
    infos = run.upload_files(["x/a.txt", "x/b.txt"], [str(a), str(b)], return_artifacts=True)
    assert infos is not None and [i.name for i in infos] == ["x/a.txt", "x/b.txt"]
    assert run.get_file_names() == ["x/a.txt", "x/b.txt"]


def test_upload_files_length_mismatch_is_an_error(run: Run, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.txt", "A")
    with pytest.raises(ValidationError, match="2 names, 1 paths"):
        run.upload_files(["x/a.txt", "x/b.txt"], [str(a)])
    assert run.get_file_names() == []


def test_upload_folder_keeps_relative_paths(run: Run, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    _write(folder / "top.txt", "1")
    _write(folder / "sub" / "deep.txt", "2")
    run.upload_folder("saved", str(folder))
    assert run.get_file_names() == ["saved/sub/deep.txt", "saved/top.txt"]


def test_uploading_a_missing_file_names_it(run: Run, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.txt")
    with pytest.raises(NotFoundError, match=r"missing\.txt"):
        run.upload_file("x.txt", missing)


def test_reupload_of_identical_content_is_a_no_op(run: Run, tmp_path: Path) -> None:
    source = _write(tmp_path / "same.txt", "same content")
    first = run.upload_file("same.txt", str(source))
    time.sleep(0.02)
    second = run.upload_file("same.txt", str(source))
    assert second == first
    assert second.created_time == first.created_time


def test_reupload_of_identical_stream_is_a_no_op(run: Run) -> None:
    first = run.upload_file("stream.bin", io.BytesIO(b"same bytes"))
    time.sleep(0.02)
    second = run.upload_file("stream.bin", io.BytesIO(b"same bytes"))
    assert second == first


def test_reupload_of_changed_content_replaces_it(run: Run, tmp_path: Path) -> None:
    source = _write(tmp_path / "f.txt", "old")
    run.upload_file("f.txt", str(source))
    _write(source, "new content")
    info = run.upload_file("f.txt", str(source))
    assert info.size == len("new content")
    assert Path(run.download_file("f.txt", str(tmp_path / "back.txt"))).read_text() == "new content"


# ---- path safety ----------------------------------------------------------------------
@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_upload_refuses_unsafe_names(run: Run, tmp_path: Path, name: str) -> None:
    source = _write(tmp_path / "f.txt", "x")
    with pytest.raises(UnsafePathError) as caught:
        run.upload_file(name, str(source))
    assert repr(name) in str(caught.value)
    assert run.get_file_names() == []


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_upload_files_and_folder_refuse_unsafe_names(run: Run, tmp_path: Path, name: str) -> None:
    source = _write(tmp_path / "folder" / "f.txt", "x")
    with pytest.raises(UnsafePathError, match="artifact name"):
        run.upload_files([name], [str(source)])
    with pytest.raises(UnsafePathError, match="artifact name"):
        run.upload_folder(name, str(source.parent))
    assert run.get_file_names() == []


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_download_refuses_unsafe_names(run: Run, tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafePathError) as caught:
        run.download_file(name, str(tmp_path / "out.txt"))
    assert repr(name) in str(caught.value)
    assert not (tmp_path / "out.txt").exists()


# ---- download -------------------------------------------------------------------------
@pytest.fixture
def run_with_files(run: Run, tmp_path: Path) -> Run:
    """A run holding outputs/a.txt, outputs/sub/b.txt and logs/std_log.txt."""
    src = tmp_path / "src"
    run.upload_file("outputs/a.txt", str(_write(src / "a.txt", "A")))
    run.upload_file("outputs/sub/b.txt", str(_write(src / "b.txt", "B")))
    run.upload_file("logs/std_log.txt", str(_write(src / "log.txt", "hello log")))
    return run


def test_get_file_names_lists_every_file_sorted(run_with_files: Run) -> None:
    assert run_with_files.get_file_names() == [
        "logs/std_log.txt",
        "outputs/a.txt",
        "outputs/sub/b.txt",
    ]


def test_download_file_to_a_path(run_with_files: Run, tmp_path: Path) -> None:
    target = tmp_path / "down" / "renamed.txt"
    written = run_with_files.download_file("outputs/sub/b.txt", str(target))
    assert Path(written) == target
    assert target.read_text() == "B"


def test_download_file_into_a_folder(run_with_files: Run, tmp_path: Path) -> None:
    folder = tmp_path / "into"
    folder.mkdir()
    written = run_with_files.download_file("outputs/sub/b.txt", str(folder))
    assert Path(written) == folder / "b.txt"
    assert (folder / "b.txt").read_text() == "B"


def test_download_file_defaults_to_the_working_directory(
    run_with_files: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    run_with_files.download_file("outputs/a.txt")
    assert (cwd / "a.txt").read_text() == "A"


def test_download_of_a_missing_file_lists_the_run_files(
    run_with_files: Run, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match=r"no file named 'nope.txt'.*outputs/a\.txt"):
        run_with_files.download_file("nope.txt", str(tmp_path / "x"))


def test_download_files_with_prefix(run_with_files: Run, tmp_path: Path) -> None:
    out = tmp_path / "all"
    run_with_files.download_files(prefix="outputs/", output_directory=str(out))
    assert (out / "outputs" / "a.txt").read_text() == "A"
    assert (out / "outputs" / "sub" / "b.txt").read_text() == "B"
    assert not (out / "logs").exists()


def test_download_files_without_appending_the_prefix(run_with_files: Run, tmp_path: Path) -> None:
    out = tmp_path / "flat"
    run_with_files.download_files(prefix="outputs", output_directory=str(out), append_prefix=False)
    assert (out / "a.txt").read_text() == "A"
    assert (out / "sub" / "b.txt").read_text() == "B"
    assert not (out / "outputs").exists()


def test_download_files_everything_into_the_working_directory(
    run_with_files: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd-all"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    run_with_files.download_files()
    found = sorted(p.relative_to(cwd).as_posix() for p in cwd.rglob("*") if p.is_file())
    assert found == ["logs/std_log.txt", "outputs/a.txt", "outputs/sub/b.txt"]


def test_get_all_logs(run_with_files: Run, tmp_path: Path) -> None:
    paths = run_with_files.get_all_logs(destination=str(tmp_path / "logs-out"))
    assert len(paths) == 1
    assert Path(paths[0]).read_text() == "hello log"
    assert Path(paths[0]).is_relative_to(tmp_path / "logs-out")


def test_get_all_logs_defaults_to_a_run_id_folder(
    run_with_files: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    paths = run_with_files.get_all_logs()
    assert [Path(p) for p in paths] == [tmp_path / run_with_files.id / "logs" / "std_log.txt"]


# ---- the outputs folder ---------------------------------------------------------------
def _outputs(tmp_path: Path) -> Path:
    folder = tmp_path / "my-outputs"
    _write(folder / "model.pkl", "model")
    _write(folder / "plots" / "loss.csv", "1,2")
    return folder


def _assert_outputs_uploaded(run: Run) -> None:
    assert run.get_file_names() == ["outputs/model.pkl", "outputs/plots/loss.csv"]


def test_outputs_uploaded_on_complete(experiment: Experiment, tmp_path: Path) -> None:
    run = experiment.start_logging(outputs=str(_outputs(tmp_path)))
    assert run.get_file_names() == []
    run.complete()
    _assert_outputs_uploaded(run)


def test_outputs_uploaded_on_fail(experiment: Experiment, tmp_path: Path) -> None:
    run = experiment.start_logging(outputs=str(_outputs(tmp_path)))
    run.fail(error_details="boom")
    assert run.get_status() == st.FAILED
    _assert_outputs_uploaded(run)


def test_outputs_uploaded_on_cancel(experiment: Experiment, tmp_path: Path) -> None:
    run = experiment.start_logging(outputs=str(_outputs(tmp_path)))
    run.cancel()
    assert run.get_status() == st.CANCELED
    _assert_outputs_uploaded(run)


def test_outputs_uploaded_when_with_block_exits(experiment: Experiment, tmp_path: Path) -> None:
    with experiment.start_logging(outputs=str(_outputs(tmp_path))) as run:
        pass
    assert run.get_status() == st.COMPLETED
    _assert_outputs_uploaded(run)


def test_outputs_uploaded_when_with_block_raises(experiment: Experiment, tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError),
        experiment.start_logging(outputs=str(_outputs(tmp_path))) as run,
    ):
        raise RuntimeError("training diverged")
    assert run.get_status() == st.FAILED
    _assert_outputs_uploaded(run)


def test_default_outputs_folder_is_outputs_in_working_directory(
    experiment: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "outputs" / "result.json", "{}")
    run = experiment.start_logging()
    run.complete()
    assert run.get_file_names() == ["outputs/result.json"]


def test_final_state_of_outputs_folder_wins(experiment: Experiment, tmp_path: Path) -> None:
    folder = _outputs(tmp_path)
    run = experiment.start_logging(outputs=str(folder))
    run.upload_folder("outputs", str(folder))
    _write(folder / "model.pkl", "retrained model")
    run.complete()
    back = run.download_file("outputs/model.pkl", str(tmp_path / "back.pkl"))
    assert Path(back).read_text() == "retrained model"


def test_outputs_false_uploads_nothing(
    experiment: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "outputs" / "result.json", "{}")
    run = experiment.start_logging(outputs=False)
    run.complete()
    assert run.get_file_names() == []


# ---- snapshots ------------------------------------------------------------------------
def _source_tree(tmp_path: Path) -> Path:
    src = tmp_path / "project"
    _write(src / "train.py", "print('train')\n")
    _write(src / "pkg" / "util.py", "X = 1\n")
    return src


def _zip_contents(path: str) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist() if not n.endswith("/")}


def test_snapshot_round_trip(run: Run, tmp_path: Path) -> None:
    src = _source_tree(tmp_path)
    assert run.get_snapshot_id() is None
    snapshot_id = run.take_snapshot(str(src))
    assert run.get_snapshot_id() == snapshot_id
    zip_path = run.restore_snapshot(path=str(tmp_path / "restored"))
    assert os.path.isfile(zip_path)
    assert _zip_contents(zip_path) == {
        "train.py": b"print('train')\n",
        "pkg/util.py": b"X = 1\n",
    }


def test_restore_snapshot_by_id(run: Run, tmp_path: Path) -> None:
    snapshot_id = run.take_snapshot(str(_source_tree(tmp_path)))
    zip_path = run.restore_snapshot(snapshot_id, path=str(tmp_path / "by-id.zip"))
    assert zip_path == str(tmp_path / "by-id.zip")
    assert set(_zip_contents(zip_path)) == {"train.py", "pkg/util.py"}


def test_snapshot_id_is_in_details(run: Run, tmp_path: Path) -> None:
    snapshot_id = run.take_snapshot(str(_source_tree(tmp_path)))
    assert run.get_details()["properties"]["ContentSnapshotId"] == snapshot_id


def test_start_logging_with_snapshot_directory(experiment: Experiment, tmp_path: Path) -> None:
    src = _source_tree(tmp_path)
    run = experiment.start_logging(outputs=False, snapshot_directory=str(src))
    assert run.get_snapshot_id() is not None
    zip_path = run.restore_snapshot(path=str(tmp_path / "restored"))
    assert _zip_contents(zip_path)["train.py"] == b"print('train')\n"


def test_second_snapshot_is_refused(run: Run, tmp_path: Path) -> None:
    src = _source_tree(tmp_path)
    first = run.take_snapshot(str(src))
    with pytest.raises(ConflictError, match="already has snapshot"):
        run.take_snapshot(str(src))
    assert run.get_snapshot_id() == first


def test_restore_without_snapshot_is_not_found(run: Run, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="has no snapshot"):
        run.restore_snapshot(path=str(tmp_path))
