"""Database statements the server spends per run a remote client creates (B3's runs).

A ``runhistory server`` app runs under uvicorn in this process on a fresh PostgreSQL
database (or a SQLite file); the real SDK client creates runs through it as B3 over HTTP
does (10 properties, 5 tags, 3 metrics, ``complete()``), one at a time. Every statement the
store's engine sends is counted on the driver's cursors (the write path runs its statements
there, past SQLAlchemy's events), and also the round trips outside them (PostgreSQL: ``BEGIN``,
``COMMIT``, the pool's ping; SQLite: ``COMMIT``).

    .venv/bin/python benchmarks/statements_per_run.py [--store postgresql|sqlite] [--runs N]
        [--pause SECONDS] [--show]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from rhbench.b3_runs import properties, tags
from rhbench.pg import fresh_database

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class Counter:
    """Statements (by their first words) and driver round trips outside them."""

    def __init__(self) -> None:
        self.statements: collections.Counter[str] = collections.Counter()
        self.texts: list[str] = []
        self.driver: collections.Counter[str] = collections.Counter()
        self.requests = 0
        self.on = False

    def statement(self, sql: str) -> None:
        if self.on:
            self.statements[" ".join(sql.split()[:3])[:60]] += 1
            self.texts.append(" ".join(sql.split())[:160])

    def total(self) -> int:
        return sum(self.statements.values())

    def reset(self) -> None:
        self.statements.clear()
        self.texts.clear()
        self.driver.clear()
        self.requests = 0


def _patch_psycopg(counter: Counter) -> None:
    """Count every statement psycopg sends (an ``executemany`` is one pipeline), BEGIN
    (psycopg sends it before a transaction's first statement), COMMIT, ROLLBACK of an open
    transaction, and the pool's ping."""
    import psycopg
    from psycopg import pq

    for name in ("execute", "executemany"):
        original = getattr(psycopg.Cursor, name)

        def run(self: Any, query: Any, *args: Any, _original: Any = original, **kw: Any) -> Any:
            connection = self.connection
            idle = connection.pgconn.transaction_status == pq.TransactionStatus.IDLE
            if counter.on and idle and not connection.autocommit:
                counter.driver["BEGIN"] += 1
            counter.statement(query if isinstance(query, str) else str(query))
            return _original(self, query, *args, **kw)

        setattr(psycopg.Cursor, name, run)
    for name in ("commit", "rollback"):
        original = getattr(psycopg.Connection, name)

        def wrapped(self: Any, _original: Any = original, _name: str = name) -> Any:
            if counter.on and self.pgconn.transaction_status != pq.TransactionStatus.IDLE:
                counter.driver[_name.upper()] += 1
            return _original(self)

        setattr(psycopg.Connection, name, wrapped)
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    ping = PGDialect_psycopg.do_ping

    def do_ping(self: Any, dbapi_connection: Any) -> Any:
        if counter.on:
            counter.driver["ping"] += 1
            counter.on = False  # its SELECT 1 is counted as the ping
            try:
                return ping(self, dbapi_connection)
            finally:
                counter.on = True
        return ping(self, dbapi_connection)

    PGDialect_psycopg.do_ping = do_ping  # type: ignore[method-assign]


def _patch_sqlite(counter: Counter) -> None:
    """Count every statement on the store's SQLite connections (BEGIN and COMMIT included)."""
    import sqlite3

    from runhistory.store.sql.engine import TrackedConnection

    class CountingCursor(sqlite3.Cursor):
        def execute(self, sql: str, parameters: Any = (), /) -> Any:
            counter.statement(sql)
            return super().execute(sql, parameters)

        def executemany(self, sql: str, parameters: Any, /) -> Any:
            counter.statement(sql)
            return super().executemany(sql, parameters)

    cursor = TrackedConnection.cursor

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        return cursor(self, *args, factory=CountingCursor) if not args else cursor(self, *args)

    TrackedConnection.cursor = counting  # type: ignore[method-assign]
    commit = TrackedConnection.commit

    def committing(self: Any) -> Any:
        if counter.on and self.in_transaction:
            counter.driver["COMMIT"] += 1
        return commit(self)

    TrackedConnection.commit = committing  # type: ignore[method-assign]


@contextlib.contextmanager
def _server(uri: str, counter: Counter) -> Iterator[str]:
    import uvicorn

    from runhistory.server.app import create_app
    from runhistory.server.config import ServerSettings, open_services

    settings = ServerSettings(backend_store_uri=uri, artifact_location=tempfile.mkdtemp())
    services = open_services(settings)
    inner = create_app(settings, services)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        """Counts every HTTP request before the application (and its lean batch route)."""
        if counter.on and scope["type"] == "http":
            counter.requests += 1
        await inner(scope, receive, send)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def measure(uri: str, runs: int, show: bool, pause: float) -> None:
    from runhistory import Experiment, Workspace

    counter = Counter()
    if uri.startswith("postgresql"):
        _patch_psycopg(counter)
    else:
        _patch_sqlite(counter)
    with _server(uri, counter) as url:
        experiment = Experiment(Workspace(tracking_uri=url), "statements")
        experiment.start_logging().complete()  # warm-up: server info, experiment, caches
        counter.on = True
        for i in range(runs):
            run = experiment.start_logging()
            time.sleep(pause)
            run.add_properties(properties(i))
            time.sleep(pause)
            run.set_tags(tags(i))
            time.sleep(pause)
            for j in range(3):
                run.log(f"metric{j}", i * 0.1 + j)
            time.sleep(pause)
            run.complete()
            if show and i == 0:
                print(f"statements of the first run ({counter.requests} requests):")
                for sql in counter.texts:
                    print("  ", sql)
                print("   driver:", dict(counter.driver))
        counter.on = False
    statements = counter.total() / runs
    driver = sum(counter.driver.values()) / runs
    print(f"store: {uri.split(':')[0]}, runs: {runs}, requests per run: "
          f"{counter.requests / runs:.2f}")  # fmt: skip
    print(
        f"statements per run: {statements:.2f}; other round trips per run: {driver:.2f} "
        f"({ {k: round(v / runs, 2) for k, v in counter.driver.items()} })"
    )
    for sql, n in counter.statements.most_common():
        print(f"  {n / runs:6.2f}  {sql}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--postgres-url", default=POSTGRES)
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="seconds between a run's steps: its changes then reach the "
        "server in several requests, as they do on a loaded machine",
    )
    parser.add_argument("--show", action="store_true", help="print the first run's statements")
    args = parser.parse_args()
    if args.store == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            measure(f"sqlite:///{folder}/runhistory.db", args.runs, args.show, args.pause)
        return
    with fresh_database(args.postgres_url) as database:
        measure(database, args.runs, args.show, args.pause)


if __name__ == "__main__":
    main()
