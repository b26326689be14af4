"""Creation-time filters of run listings over HTTP (a real uvicorn server on a SQLite
workspace): ``GET /runs`` and ``GET /counts/runs`` with ``created_after``/``created_before``,
their pages and the tokens bound to them, the remote client, and ``runhistory run list
--since/--until`` against the server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runhistory import Experiment, Workspace
from runhistory.server.app import create_app
from runhistory.server.config import ServerSettings, open_services
from server.conftest import serving

RUNS = "/api/v1/runs"


@pytest.fixture
def timed(tmp_path: Path) -> Iterator[tuple[httpx.Client, Workspace, str, list[str], list[float]]]:
    """Six runs created over HTTP, with the times between them: run i was created at or
    after ``marks[i]`` and before ``marks[i + 1]``."""
    settings = ServerSettings(backend_store_uri=str(tmp_path / "server-ws"))
    with serving(create_app(settings, open_services(settings))) as http:
        workspace = Workspace(tracking_uri=str(http.base_url))
        experiment = Experiment(workspace, "timed")
        made, marks = [], [time.time()]
        for _ in range(6):
            run = experiment.start_logging(snapshot_directory=None, outputs=False)
            run.complete()
            made.append(run.id)
            time.sleep(0.02)
            marks.append(time.time())
            time.sleep(0.02)
        yield http, workspace, experiment.id, made, marks


def _ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [r["run_id"] for r in answer.json()["items"]]


def test_runs_and_counts_by_creation_time(timed: tuple) -> None:  # type: ignore[type-arg]
    http, _, experiment_id, made, marks = timed
    window = {"experiment_id": experiment_id, "created_after": marks[1],
              "created_before": marks[4]}  # fmt: skip
    assert _ids(http.get(RUNS, params=window)) == [made[3], made[2], made[1]]
    count = http.get("/api/v1/counts/runs", params=window)
    assert count.status_code == 200 and count.json()["count"] == 3
    since = {"experiment_id": experiment_id, "created_after": marks[5]}
    assert _ids(http.get(RUNS, params=since)) == [made[5]]
    until = {"experiment_id": experiment_id, "created_before": marks[0]}
    assert _ids(http.get(RUNS, params=until)) == []


def test_pages_of_a_window_and_tokens_bound_to_it(timed: tuple) -> None:  # type: ignore[type-arg]
    http, _, experiment_id, made, marks = timed
    window = {"experiment_id": experiment_id, "created_after": marks[1], "limit": 2}
    first = http.get(RUNS, params=window)
    assert _ids(first) == [made[5], made[4]]
    token = first.json()["next_page_token"]
    second = http.get(RUNS, params={**window, "page_token": token})
    assert _ids(second) == [made[3], made[2]]
    third = http.get(RUNS, params={**window, "page_token": second.json()["next_page_token"]})
    assert _ids(third) == [made[1]] and third.json()["next_page_token"] is None
    for other in ({**window, "created_after": marks[0]}, {**window, "created_before": marks[6]},
                  {"experiment_id": experiment_id, "limit": 2}):  # fmt: skip
        refused = http.get(RUNS, params={**other, "page_token": token})
        assert refused.status_code == 400, refused.text
        assert "page_token" in refused.text


@pytest.mark.parametrize("bad", ["nan", "inf", "yesterday"])
def test_a_time_that_is_not_a_number_of_seconds_is_refused(timed: tuple, bad: str) -> None:  # type: ignore[type-arg]
    http = timed[0]
    for path in (RUNS, "/api/v1/counts/runs"):
        answer = http.get(path, params={"created_after": bad})
        assert answer.status_code in (400, 422), answer.text
        assert "created_after" in answer.text


def test_the_remote_client_sends_the_window(timed: tuple) -> None:  # type: ignore[type-arg]
    _, workspace, experiment_id, made, marks = timed
    backend = workspace._connection.backend
    page = backend.search_runs_page(
        experiment_id=experiment_id, created_after=marks[2], created_before=marks[5],
        page_size=2, with_definition=False,
    )  # fmt: skip
    assert [r.run_id for r in page.items] == [made[4], made[3]]
    rest = backend.search_runs_page(
        experiment_id=experiment_id, created_after=marks[2], created_before=marks[5],
        page_size=2, page_token=page.next_page_token, with_definition=False,
    )  # fmt: skip
    assert [r.run_id for r in rest.items] == [made[2]] and rest.next_page_token is None
    listed = backend.search_runs(experiment_id=experiment_id, created_before=marks[2])
    assert [r.run_id for r in listed] == [made[1], made[0]]
    assert backend.count_matching_runs(experiment_id=experiment_id, created_after=marks[3]) == 3


def test_run_list_since_and_until_against_the_server(timed: tuple, tmp_path: Path) -> None:  # type: ignore[type-arg]
    http, _, _, made, marks = timed
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(marks[0] - 3600))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNHISTORY_")}
    env.update(RUNHISTORY_TRACKING_URI=str(http.base_url), RUNHISTORY_HOME=str(tmp_path / "h"),
               RUNHISTORY_QUIET="1")  # fmt: skip
    exe = Path(sys.executable).with_name("runhistory")
    for arguments, expected in (
        (["--since", "1h"], list(reversed(made))),
        (["--since", stamp, "--until", "1h"], []),
        (["--until", "1h"], []),
    ):
        done = subprocess.run(
            [str(exe), "run", "list", "-e", "timed", "-o", "tsv", *arguments],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert [line.split("\t")[0] for line in done.stdout.splitlines()] == expected
