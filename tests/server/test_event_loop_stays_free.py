"""A request whose store call is slow (here: a table locked in PostgreSQL) holds up no other
request of the same worker: the async routes do their blocking work in the thread pool, so
the event loop — the worker's liveness beat and every other request — keeps going."""

from __future__ import annotations

import gzip
import io
import json
import threading
import time
import zipfile
from collections.abc import Callable
from typing import Any

import httpx
import psycopg

from runhistory import Experiment, Workspace
from support.services import ServerProcess


def _database(server: ServerProcess) -> str:
    return server.command[server.command.index("--backend-store-uri") + 1]


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_slow_store_calls_in_async_routes_do_not_stall_the_worker(
    pg_server: ServerProcess,
) -> None:
    run = Experiment(Workspace(tracking_uri=pg_server.url), "stalls").start_logging()
    run.flush()
    api = f"{pg_server.url}/api/v1"
    columns = [[0, 1], [0, 0], [1.0, 2.0], [None, None], [1.0, 2.0]]
    writes = {"batch_id": "b-1", "writes": [{"name": "m", "kind": "scalar", "columns": columns}]}
    experiment_id = run.experiment.id
    slow: dict[str, Callable[[httpx.Client], httpx.Response]] = {
        "metrics (gzip)": lambda c: c.post(
            f"{api}/runs/{run.id}/metrics", content=gzip.compress(json.dumps(writes).encode()),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}),
        "file upload": lambda c: c.put(f"{api}/runs/{run.id}/files/outputs/a.txt",
                                       content=b"x" * (3 * 1024 * 1024)),
        "snapshot": lambda c: c.post(f"{api}/runs/{run.id}/snapshot",
                                     content=_zip({"train.py": b"print(1)\n"})),
        "mlflow get run": lambda c: c.get(
            f"{pg_server.url}/api/2.0/mlflow/runs/get", params={"run_id": run.id}),
        "mlflow search": lambda c: c.post(f"{pg_server.url}/api/2.0/mlflow/runs/search",
                                          json={"experiment_ids": [experiment_id]}),
    }  # fmt: skip
    answers: dict[str, Any] = {}

    def send(name: str, request: Callable[[httpx.Client], httpx.Response]) -> None:
        with httpx.Client(timeout=300) as client:
            try:
                answers[name] = request(client)
            except Exception as exc:  # reported by the assertions below
                answers[name] = exc

    with psycopg.connect(_database(pg_server)) as lock:
        lock.execute("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE")  # until the rollback
        senders = [threading.Thread(target=send, args=item, daemon=True)
                   for item in slow.items()]  # fmt: skip
        for sender in senders:
            sender.start()
        _wait_until_waiting_on_the_lock(lock, len(slow))
        with httpx.Client(timeout=60) as client:  # the worker answers meanwhile
            for _ in range(3):
                assert client.get(f"{pg_server.url}/healthz").json()["status"] == "ok"
            assert client.get(f"{pg_server.url}/metrics").status_code == 200
        assert answers == {}, "a slow request ended while the table was locked"
        lock.rollback()
    for sender in senders:
        sender.join(120)
    statuses = {name: getattr(answer, "status_code", answer) for name, answer in answers.items()}
    assert statuses["metrics (gzip)"] == 200
    assert statuses["file upload"] == 200
    assert statuses["snapshot"] == 200
    assert statuses["mlflow get run"] == 200
    assert statuses["mlflow search"] == 200
    assert run.get_metrics("m")["m"] == [1.0, 2.0]
    assert "outputs/a.txt" in run.get_file_names()


def _wait_until_waiting_on_the_lock(lock: psycopg.Connection[Any], count: int) -> None:
    """Until ``count`` other sessions wait for the lock ``lock`` holds (the slow requests are
    inside their store calls)."""
    for _ in range(1200):
        waiting = lock.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'runs'::regclass"
        ).fetchone()
        if waiting is not None and waiting[0] >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} requests came to wait on the locked table")
