"""Two processes adding the same property at once: whoever is told "no error" has its value
stored (issue 11, finding 5), on SQLite and PostgreSQL.

Writer A runs in a child process and is paused right after its first call into the store;
writer B (this process) adds the same key with another value meanwhile; then A goes on. With
two write paths, the one-at-a-time path read the properties, paused, and then skipped the key
B had stored — telling A "no error" while A's value was not stored.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runhistory.artifacts import open_artifact_store
from runhistory.errors import PropertyImmutableError
from runhistory.store.sql import open_store
from runhistory.tracking.service import TrackingService
from support.services import fresh_schema, postgres_database

WRITER_A = r"""
import os, sys, time
from runhistory.artifacts import open_artifact_store
from runhistory.errors import RunhistoryError
from runhistory.store.sql import open_store
from runhistory.tracking.service import TrackingService

url, files, run_id, paused, resume, result = sys.argv[1:]
service = TrackingService(open_store(url), open_artifact_store(files))
store = service.store
state = {"paused": False}

def pausing(method):
    def call(*args, **kwargs):
        value = method(*args, **kwargs)
        if not state["paused"]:  # right after the first store call: let B in
            state["paused"] = True
            open(paused, "w").close()
            while not os.path.exists(resume):
                time.sleep(0.01)
        return value
    return call

for name in dir(store):
    if not name.startswith("_") and callable(getattr(store, name)):
        setattr(store, name, pausing(getattr(store, name)))
try:
    service.add_run_properties(run_id, {"owner": "a"})
    outcome = "ok"
except RunhistoryError as exc:
    outcome = type(exc).__name__
with open(result, "w") as handle:
    handle.write(outcome)
service.close()
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'race.db'}"
        return
    with postgres_database("rh_race") as url:
        yield fresh_schema(url)


def _wait_for(path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)


def test_whoever_is_told_no_error_has_its_property_stored(
    database_url: str, tmp_path: Path
) -> None:
    files = str(tmp_path / "files")
    service = TrackingService(open_store(database_url), open_artifact_store(files))
    experiment = service.get_or_create_experiment("race")
    run_id = service.create_run(experiment.experiment_id, status="Running").run_id
    paused, resume, result = tmp_path / "paused", tmp_path / "resume", tmp_path / "result"
    command = [sys.executable, "-c", WRITER_A, database_url, files, run_id,
               str(paused), str(resume), str(result)]  # fmt: skip
    writer_a = subprocess.Popen(command, stderr=subprocess.PIPE)
    try:
        _wait_for(paused, writer_a)
        try:
            service.add_run_properties(run_id, {"owner": "b"})
            outcome_b = "ok"
        except PropertyImmutableError:
            outcome_b = "PropertyImmutableError"
        resume.touch()
        assert writer_a.wait(60) == 0, writer_a.stderr.read() if writer_a.stderr else ""
    finally:
        resume.touch()
        if writer_a.poll() is None:
            writer_a.kill()
    outcome_a = result.read_text()
    stored = service.get_run(run_id).properties["owner"]
    service.close()
    outcomes = {"a": outcome_a, "b": outcome_b}
    assert sorted(outcomes.values()) == ["PropertyImmutableError", "ok"], outcomes
    winner = next(writer for writer, outcome in outcomes.items() if outcome == "ok")
    assert stored == winner
