"""Group commit of run changes: batches of concurrent requests stored in one transaction.

The grouping itself (:class:`~runhistory.server.change_groups.ChangeGroups` over a real
tracking service, on SQLite and PostgreSQL) is driven in one event loop, so that the requests
are known to arrive together; a real server subprocess takes concurrent requests too.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from runhistory.errors import RunhistoryError, StorageError
from runhistory.server.change_groups import ChangeGroups
from runhistory.server.config import ServerSettings, open_services
from runhistory.tracking.entities import (
    MetricWrite,
    PropertyChange,
    RunChanges,
    RunCreate,
    StatusChange,
    TagChange,
    WriteBatch,
    WriteOutcome,
)
from runhistory.tracking.service import TrackingService
from support.services import ServerProcess, postgres_database, server_on

STORES = ["sqlite", "postgresql"]


class Recording(ChangeGroups):
    """Groups that remember how many batches each transaction held."""

    def __init__(self, service: TrackingService) -> None:
        super().__init__(service)
        self.sizes: list[int] = []
        original = service.write_changes_together

        def recorded(group: Sequence[tuple[RunChanges, str]]) -> list[list[RunhistoryError]]:
            self.sizes.append(len(group))
            return original(group)

        service.write_changes_together = recorded  # type: ignore[method-assign]


@pytest.fixture(params=STORES)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackingService]:
    """A tracking service as a server opens it, on a SQLite file or a fresh PostgreSQL."""
    if request.param == "sqlite":
        services = open_services(ServerSettings(backend_store_uri=str(tmp_path / "ws")))
        try:
            yield services.tracking
        finally:
            services.close()
        return
    with postgres_database("rh_grp") as database:
        settings = ServerSettings(backend_store_uri=database,
                                  artifact_location=str(tmp_path / "artifacts"))  # fmt: skip
        services = open_services(settings)
        try:
            yield services.tracking
        finally:
            services.close()


def _run(run_id: str, experiment_id: str, tag: str = "t") -> RunChanges:
    now = time.time()
    write = MetricWrite.from_columns("loss", "scalar", ([0, 1, 2], [0] * 3, [0.5, 0.25, 0.125],
                                                        [None] * 3, [now] * 3))  # fmt: skip
    return RunChanges(
        creates=[RunCreate(run_id, experiment_id, "Running", now, start_time=now)],
        tags=[TagChange(run_id, {"tag": tag})],
        properties=[PropertyChange(run_id, {"seed": "1"})],
        metrics={run_id: [write]},
        statuses=[StatusChange(run_id, "Completed", now)],
    )


def _together(
    groups: ChangeGroups, requests: list[list[tuple[RunChanges, str]]]
) -> list[list[list[RunhistoryError]]]:
    async def all_at_once() -> list[list[list[RunhistoryError]]]:
        return list(await asyncio.gather(*(groups.write(items) for items in requests)))

    # A thread of its own: the browser tests' synchronous Playwright leaves an event loop
    # running in the main thread of the session, and asyncio.run() refuses to nest.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, all_at_once()).result()


def _ids(n: int) -> list[str]:
    return [uuid.uuid4().hex for _ in range(n)]


def test_concurrent_requests_are_stored_in_one_transaction(service: TrackingService) -> None:
    experiment = service.get_or_create_experiment("grouped").experiment_id
    groups = Recording(service)
    transactions: list[int] = []
    store_write = service.store.write_changes

    def counted(batch: WriteBatch) -> WriteOutcome:
        transactions.append(len(batch.creates))
        return store_write(batch)

    service.store.write_changes = counted  # type: ignore[method-assign]
    requests = [[(_run(f"run-{n}", experiment), batch)] for n, batch in enumerate(_ids(6))]
    answers = _together(groups, requests)
    assert answers == [[[]]] * 6
    assert groups.sizes == [6] and transactions == [6]  # one group, one transaction
    runs = [service.get_run(f"run-{n}") for n in range(6)]
    assert sorted(r.number for r in runs) == [1, 2, 3, 4, 5, 6]
    for run in runs:
        assert (run.status, run.tags, run.properties) == ("Completed", {"tag": "t"}, {"seed": "1"})
        assert service.store.get_metric_columns(run.run_id, "loss").values == [0.5, 0.25, 0.125]


def test_a_bad_batch_is_refused_alone(service: TrackingService) -> None:
    experiment = service.get_or_create_experiment("grouped").experiment_id
    service.write_changes(_run("stored", experiment))
    groups = Recording(service)
    clash = RunChanges(properties=[PropertyChange("stored", {"seed": "2"})],
                       tags=[TagChange("stored", {"late": "yes"})])  # fmt: skip
    bad_value = _run("bad-value", experiment, tag="x" * 100_000)  # over the tag value limit
    ghost = RunChanges(tags=[TagChange("ghost", {"a": "b"})])
    requests = [
        [(_run("good-1", experiment), uuid.uuid4().hex)],
        [(clash, uuid.uuid4().hex)],
        [(bad_value, uuid.uuid4().hex), (_run("good-2", experiment), uuid.uuid4().hex)],
        [(ghost, uuid.uuid4().hex)],
        [(_run("good-3", experiment), uuid.uuid4().hex)],
    ]
    answers = _together(groups, requests)
    assert answers[0] == [[]] and answers[4] == [[]] and answers[2][1] == []
    assert [e.fields["run_id"] for e in answers[1][0]] == ["stored"]  # the property clash
    assert [e.fields["run_id"] for e in answers[2][0]] == ["bad-value"]
    assert [e.fields.get("run_id") for e in answers[3][0]] == ["ghost"]
    for run_id in ("good-1", "good-2", "good-3"):
        run = service.get_run(run_id)
        assert run.status == "Completed" and run.properties == {"seed": "1"}
        assert service.store.get_metric_columns(run_id, "loss").values == [0.5, 0.25, 0.125]
    stored = service.get_run("stored")
    assert stored.properties == {"seed": "1"} and stored.tags == {"tag": "t", "late": "yes"}
    bad = service.get_run("bad-value")  # only the offending tag was lost
    assert bad.status == "Completed" and bad.tags == {} and bad.properties == {"seed": "1"}


def test_retried_batches_are_stored_once(service: TrackingService) -> None:
    experiment = service.get_or_create_experiment("grouped").experiment_id
    groups = Recording(service)
    first = [[(_run(f"run-{n}", experiment), batch)] for n, batch in enumerate(_ids(3))]
    assert _together(groups, first) == [[[]]] * 3
    # the same requests again (a client that missed the answers), with a new one among them
    again = [*first, [(_run("run-new", experiment), uuid.uuid4().hex)]]
    assert _together(groups, again) == [[[]]] * 4
    point = ([3], [0], [0.1], [None], [time.time()])
    later = RunChanges(
        tags=[TagChange("run-0", {"after": "1"})],
        metrics={"run-0": [MetricWrite.from_columns("loss", "scalar", point)]},
    )
    batch = uuid.uuid4().hex
    for _ in range(2):  # a batch of changes of a stored run, retried
        assert _together(groups, [[(later, batch)], [(_run("run-x", experiment), batch + "x")]])
    # retried once more among new batches only: its recorded id refuses the group, stored apart
    fresh = [[(_run("run-y", experiment), uuid.uuid4().hex)], [(later, batch)]]
    assert _together(groups, fresh) == [[[]], [[]]]
    assert service.get_run("run-y").status == "Completed"
    for n in range(3):
        assert service.store.get_metric_columns(f"run-{n}", "loss").values[:3] == [0.5, 0.25, 0.125]
    assert service.store.get_metric_columns("run-0", "loss").values == [0.5, 0.25, 0.125, 0.1]
    assert service.get_run("run-0").tags == {"tag": "t", "after": "1"}
    assert service.get_run("run-new").status == "Completed"
    assert len(service.store.get_metric_columns("run-1", "loss").values) == 3


# ---- over HTTP: a real server, concurrent clients ----------------------------------------
@pytest.fixture(params=STORES)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """A real server subprocess on a SQLite workspace or on a fresh PostgreSQL database."""
    with server_on(request.param, tmp_path, "rh_grp_http", workspace=True,
                   home="server-home") as started:  # fmt: skip
        yield started


def _create(run_id: str, experiment_id: str, tag: str) -> dict[str, Any]:
    now = time.time()
    n = 3
    columns = [list(range(n)), [0] * n, [1.0, 2.0, 3.0], [None] * n, [now] * n]
    return {
        "batch_id": uuid.uuid4().hex,
        "changes": {
            "creates": [{"run_id": run_id, "experiment_id": experiment_id, "status": "Running",
                         "created_time": now}],
            "tags": [{"run_id": run_id, "set": {"tag": tag}}],
            "properties": [{"run_id": run_id, "properties": {"seed": "1"}}],
            "metrics": {run_id: [{"name": "m", "kind": "scalar", "columns": columns}]},
            "statuses": [{"run_id": run_id, "status": "Completed", "time": now}],
        },
    }  # fmt: skip


def test_concurrent_requests_over_http(server: ServerProcess) -> None:
    url = f"{server.url}/api/v1"
    answer = httpx.post(f"{url}/experiments", json={"name": "grouped-http"}, timeout=30)
    experiment = str(answer.json()["experiment_id"])
    clients, runs = 6, 10
    answers: dict[str, list[dict[str, Any]]] = {}
    barrier = threading.Barrier(clients)

    def client(index: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            barrier.wait()
            for n in range(runs):
                run_id = f"c{index}-r{n}"
                tag = "x" * 100_000 if (index, n) == (2, 5) else "ok"  # one bad value
                body = {"batches": [_create(run_id, experiment, tag)]}
                response = http.post("/changes/batches", json=body)
                answers[run_id] = response.json()["results"]

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == clients * runs
    numbers = set()
    for run_id, results in answers.items():
        assert results[0]["stored"] is True
        errors = [e["fields"]["run_id"] for e in results[0]["errors"]]
        assert errors == (["c2-r5"] if run_id == "c2-r5" else [])
        run = httpx.get(f"{url}/runs/{run_id}", timeout=30).json()
        assert run["status"] == "Completed"
        assert run["tags"] == ({} if run_id == "c2-r5" else {"tag": "ok"})
        numbers.add(run["number"])
    assert len(numbers) == clients * runs


def test_a_second_group_is_stored_while_the_first_is(service: TrackingService) -> None:
    """With two writers, requests arriving while a group is being stored start a second
    group at once; later ones wait and are stored together."""
    experiment = service.get_or_create_experiment("grouped").experiment_id
    inside = threading.Barrier(2, timeout=30)  # both groups inside the store at once
    original = service.write_changes_together
    sizes: list[int] = []

    def held(group: Sequence[tuple[RunChanges, str]]) -> list[list[RunhistoryError]]:
        sizes.append(len(group))
        if len(sizes) <= 2:
            inside.wait()
        return original(group)

    service.write_changes_together = held  # type: ignore[method-assign]
    groups = ChangeGroups(service, writers=2)

    async def arriving() -> list[list[list[RunhistoryError]]]:
        first = asyncio.ensure_future(groups.write([(_run("a", experiment), "b-a")]))
        await asyncio.sleep(0)  # the first group is taken
        second = asyncio.ensure_future(groups.write([(_run("b", experiment), "b-b")]))
        await asyncio.sleep(0)
        later = [groups.write([(_run(f"c{n}", experiment), f"b-c{n}")]) for n in range(3)]
        return list(await asyncio.gather(first, second, *later))

    with ThreadPoolExecutor(1) as thread:
        answers = thread.submit(asyncio.run, arriving()).result()
    assert answers == [[[]]] * 5
    assert sizes == [1, 1, 3]  # two groups at once (else the barrier times out), then the rest
    for run_id in ("a", "b", "c0", "c1", "c2"):
        assert service.get_run(run_id).status == "Completed"


def test_an_unavailable_store_answers_every_request_of_its_group(
    service: TrackingService,
) -> None:
    """A storage fault reaches each request of the group (the route answers 503); the
    writer goes on and stores the next group."""
    experiment = service.get_or_create_experiment("grouped").experiment_id
    original = service.write_changes_together
    calls: list[int] = []

    def unavailable_once(group: Sequence[tuple[RunChanges, str]]) -> list[list[RunhistoryError]]:
        calls.append(len(group))
        if len(calls) == 1:
            raise StorageError("the database is down")
        return original(group)

    service.write_changes_together = unavailable_once  # type: ignore[method-assign]
    groups = ChangeGroups(service)

    async def all_at_once(names: list[str]) -> list[Any]:
        writes = (groups.write([(_run(n, experiment), f"batch-{n}")]) for n in names)
        return list(await asyncio.gather(*writes, return_exceptions=True))

    with ThreadPoolExecutor(1) as thread:
        failed = thread.submit(asyncio.run, all_at_once(["a", "b", "c"])).result()
        assert calls == [3]
        assert [type(answer) for answer in failed] == [StorageError] * 3
        stored = thread.submit(asyncio.run, all_at_once(["a", "b", "c"])).result()
    assert stored == [[[]]] * 3  # sent again, as a client does after a 503
    for run_id in ("a", "b", "c"):
        assert service.get_run(run_id).status == "Completed"


def test_writer_threads_end_when_idle_and_start_again(
    service: TrackingService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("runhistory.server.change_groups.IDLE_SECONDS", 0.05)
    experiment = service.get_or_create_experiment("grouped").experiment_id
    groups = ChangeGroups(service)
    assert groups.threads == 0  # none before the first request
    assert _together(groups, [[(_run("first", experiment), uuid.uuid4().hex)]]) == [[[]]]
    deadline = time.monotonic() + 10
    while groups.threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert groups.threads == 0
    monkeypatch.setattr("runhistory.server.change_groups.IDLE_SECONDS", 10.0)
    requests = [[(_run(f"later-{n}", experiment), uuid.uuid4().hex)] for n in range(4)]
    assert _together(groups, requests) == [[[]]] * 4
    assert 1 <= groups.threads <= groups.writers
    for run_id in ("first", "later-0", "later-3"):
        assert service.get_run(run_id).status == "Completed"


def test_a_writer_thread_that_cannot_start_answers_its_group_as_unavailable(
    service: TrackingService, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = service.get_or_create_experiment("grouped").experiment_id
    refused: list[str] = []

    class Scarce(threading.Thread):
        def start(self) -> None:
            if self.name == "runhistory-change-groups" and not refused:
                refused.append(self.name)
                raise RuntimeError("can't start new thread")
            super().start()

    monkeypatch.setattr(threading, "Thread", Scarce)
    groups = ChangeGroups(service)
    batch = uuid.uuid4().hex

    async def one() -> Any:
        return (await asyncio.gather(groups.write([(_run("a", experiment), batch)]),
                                     return_exceptions=True))[0]  # fmt: skip

    with ThreadPoolExecutor(1) as thread:
        failed = thread.submit(asyncio.run, one()).result()
        assert isinstance(failed, StorageError) and groups.threads == 0
        assert thread.submit(asyncio.run, one()).result() == [[]]  # sent again: stored
    assert refused and service.get_run("a").status == "Completed"
