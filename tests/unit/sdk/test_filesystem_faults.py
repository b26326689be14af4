"""A read-only workspace and a full disk give errors that say so, and the store recovers.

Real faults: a read-only bind mount of the workspace folder, and a 2 MiB tmpfs written full
(see ``support.filesystems``).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from runhistory import Experiment, Workspace
from runhistory.artifacts import open_artifact_store
from runhistory.errors import StorageError
from runhistory.retry import Backoff
from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking.entities import MetricWrite
from support import writes
from support.filesystems import fill, read_only_view, tiny_disk, workspace_with_a_run


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer retries a store that reports itself unavailable for about 10 s, in case it
    comes back; these faults do not go away, so waiting for them would only slow the tests."""
    monkeypatch.setattr("runhistory.client.queue._RETRY", Backoff(first=0.0, cap=0.0, attempts=2))


def _points(count: int, start: int = 0) -> MetricWrite:
    steps = list(range(start, start + count))
    columns = (steps, [0] * count, [1.0] * count, [None] * count, [1.0] * count)
    return MetricWrite.from_columns("x", "scalar", columns, "")


def test_a_full_disk_is_named_and_the_store_recovers_when_space_returns(tmp_path: Path) -> None:
    with tiny_disk(tmp_path / "disk") as disk:
        store = SqlTrackingStore(f"sqlite:///{disk / 'store.db'}")
        try:
            experiment = store.create_experiment("exp")
            writes.create_run(store, "r1", experiment_id=experiment.experiment_id,
                              status="Running", created_time=time.time())  # fmt: skip
            fill(disk)
            for _ in range(2):  # the hot writer's connection is not wedged by the first failure
                with pytest.raises(StorageError, match="no space left on device") as caught:
                    writes.log_metrics(store, "r1", [_points(20_000)])
                assert caught.value.fields["reason"] == "disk full"
                assert "INSERT" not in caught.value.message
            os.unlink(disk / "filler.bin")
            writes.log_metrics(store, "r1", [_points(10)])
            store.create_experiment("after")
            assert store.get_metric_infos("r1")[0].count == 10
        finally:
            store.close()


def test_complete_on_a_read_only_workspace_says_the_folder_is_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "source"
    workspace_with_a_run(source / "ws")
    from runhistory.client.backend import close_all

    monkeypatch.chdir(tmp_path)
    (tmp_path / "outputs").mkdir()
    (tmp_path / "outputs" / "model.txt").write_text("weights")
    with read_only_view(source, tmp_path / "mnt") as view:
        run = Experiment(Workspace(tracking_uri=str(view / "ws")), "ro-exp").start_logging()
        run.log("x", 2)
        with pytest.raises(StorageError) as caught:
            run.complete()
        close_all()
    message = str(caught.value)
    assert f"the workspace folder {view / 'ws'} is read-only" in message


def test_complete_on_a_full_disk_says_no_space_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with tiny_disk(tmp_path / "disk") as disk:
        run = Experiment(Workspace(tracking_uri=str(disk / "ws")), "full-exp").start_logging()
        run.log("x", 1)
        run.flush()
        fill(disk)
        for step in range(20_000):
            run.log("y", float(step))
        with pytest.raises(StorageError, match="no space left on device while writing"):
            run.complete()
        from runhistory.client.backend import close_all

        close_all()


def test_artifact_writes_name_a_read_only_folder_and_a_full_disk(tmp_path: Path) -> None:
    source = tmp_path / "artifacts"
    source.mkdir()
    expected = re.escape("is read-only: writing artifact 'a/b.txt'")
    with (
        read_only_view(source, tmp_path / "ro") as view,
        pytest.raises(StorageError, match=expected),
    ):
        open_artifact_store(str(view)).put_bytes("a/b.txt", b"data")
    with tiny_disk(tmp_path / "disk", size="1m") as disk:
        store = open_artifact_store(str(disk))
        with pytest.raises(StorageError, match="no space left on device while writing artifact"):
            store.put_bytes("big.bin", b"\0" * (2 * 1024 * 1024))
        assert list(store.list_keys("")) == []  # nothing half-written left under the key
