"""B10's ``search_runs`` alone: every page of a filtered, ordered search over many runs, through
the same MLflow client, against ``runhistory server`` builds and ``mlflow server``.

Each side gets a fresh PostgreSQL database filled once with B10's runs (through the MLflow
client, a few requests at a time); then each ``runhistory`` command given (say the build before
a change and the one after) serves the same database in turn, alternating with ``mlflow server``,
and the search is timed ``--reps`` times on each. Prints the median seconds per side and the
load average.

    python benchmarks/mlflow_search_runs.py --runs 10000 \\
        --runhistory before=/old/.venv/bin/runhistory --runhistory after=.venv/bin/runhistory
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from rhbench.b10_mlflow_api import FILTER, _expected
from rhbench.pg import fresh_database
from rhbench.servers import free_port

ADMIN = os.environ.get("RUNHISTORY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def serving(command: list[str], health: str, log: Path) -> Iterator[str]:
    """Run a server command (``{port}`` filled in) until it answers ``health``."""
    port = free_port()
    argv = [part.replace("{port}", str(port)) for part in command]
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    with log.open("ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(url + health, timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} did not start; see {log}") from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def populate(url: str, runs: int) -> str:
    """B10's experiment: ``runs`` finished runs, each with a param and a metric."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(url)
    experiment_id = client.create_experiment("b10-search")

    def one(index: int) -> None:
        run_id = client.create_run(experiment_id).info.run_id
        acc = (index * 7919 % 1000) / 1000
        client.log_batch(run_id, metrics=[Metric("acc", acc, 0, 0)], params=[Param("kind", "b10")])
        client.set_terminated(run_id)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(runs)))
    return experiment_id


def populate_store(database: str, artifacts: Path, runs: int) -> str:
    """The same experiment written straight through MLflow's own SQL store (HTTP would take
    MLflow's server far longer to fill than the search takes to measure)."""
    from mlflow.entities import Metric, Param, RunStatus
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(database, str(artifacts))
    experiment_id = store.create_experiment("b10-search")

    def one(index: int) -> None:
        now = int(time.time() * 1000)
        run_id = store.create_run(experiment_id, "bench", now, [], None).info.run_id
        acc = (index * 7919 % 1000) / 1000
        store.log_batch(run_id, metrics=[Metric("acc", acc, 0, 0)], params=[Param("kind", "b10")],
                        tags=[])  # fmt: skip
        store.update_run_info(run_id, RunStatus.FINISHED, int(time.time() * 1000), None)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(runs)))
    return experiment_id


def search(url: str, experiment_id: str) -> tuple[float, int]:
    """Seconds to read every page of B10's search, and the runs found."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(url)
    started = time.perf_counter()
    found, token = 0, None
    while True:
        page = client.search_runs([experiment_id], FILTER, order_by=["metrics.acc DESC"],
                                  max_results=1000, page_token=token)  # fmt: skip
        found += len(page)
        token = page.token
        if not token:
            return time.perf_counter() - started, found


def main() -> None:
    """Fill both databases, then time the search on every server, alternating."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--runhistory", action="append", required=True,
                        help="name=path of a runhistory console script")  # fmt: skip
    args = parser.parse_args()
    commands = dict(item.split("=", 1) for item in args.runhistory)
    folder = Path(tempfile.mkdtemp(prefix="b10-search-"))
    expected = _expected(args.runs)
    with fresh_database(ADMIN) as rh_db, fresh_database(ADMIN) as ml_db:
        rh_db = "postgresql://" + rh_db.split("://", 1)[1]
        ml_db = "postgresql+psycopg://" + ml_db.split("://", 1)[1]
        sides = {
            name: [script, "server", "--host", "127.0.0.1", "--port", "{port}",
                   "--backend-store-uri", rh_db, "--artifact-location", str(folder / "rh"),
                   "--log-level", "warning", "--workers", "2"]
            for name, script in commands.items()
        }  # fmt: skip
        sides["mlflow"] = [
            sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", "{port}",
            "--backend-store-uri", ml_db, "--default-artifact-root", str(folder / "ml"),
            "--workers", "2",
        ]  # fmt: skip
        health = {name: "/healthz" for name in commands} | {"mlflow": "/health"}
        experiments: dict[str, str] = {}
        first = next(iter(commands))
        with serving(sides[first], health[first], folder / f"{first}.log") as url:
            began = time.perf_counter()
            experiments[first] = populate(url, args.runs)
            print(f"filled {first}: {time.perf_counter() - began:.0f} s", flush=True)
        began = time.perf_counter()
        experiments["mlflow"] = populate_store(ml_db, folder / "ml", args.runs)
        print(f"filled mlflow: {time.perf_counter() - began:.0f} s", flush=True)
        timings: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(args.reps):
            for name in sides:
                experiment = experiments["mlflow" if name == "mlflow" else first]
                with serving(sides[name], health[name], folder / f"{name}.log") as url:
                    seconds, found = search(url, experiment)
                if found != expected:
                    raise RuntimeError(f"{name}: found {found} runs, expected {expected}")
                timings[name].append(seconds)
                print(f"{name}: {seconds:.2f} s  (load {os.getloadavg()[0]:.2f})", flush=True)
    for name, seconds in timings.items():
        shown = ", ".join(f"{s:.2f}" for s in seconds)
        print(f"{name:>10}: median {statistics.median(seconds):.2f} s  [{shown}]")
    print("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
