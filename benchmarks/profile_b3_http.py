"""Where B3 over HTTP spends its CPU: a profile of the server and of one client.

A ``runhistory server`` app runs under uvicorn in this process (one worker) on a fresh
PostgreSQL database, profiled with ``cProfile`` in every thread (the event loop's and the
worker threads' that store the batches); N client processes create runs as B3 over HTTP does
(:func:`rhbench.http_runs.rh_client`), the first of them under ``cProfile`` too. Prints the
functions with the most time of each side, and the CPU seconds per run of this process (the
server, profiled: slower than without) and of the clients::

    python benchmarks/profile_b3_http.py --clients 8 --runs 200 [--top 40] [--sort tottime]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from rhbench.pg import fresh_database

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
CLIENT = """
import json, sys, threading, time
sys.path.insert(0, {bench!r})
from rhbench import http_runs
from profile_b3_http import ThreadProfiles
profiles = ThreadProfiles() if {profiled!r} else None
if profiles is not None:
    profiles.install()  # the SDK's threads start with the warm-up run: profiled from there
    barrier = http_runs.wait_for_start
    def profiled_barrier(folder, index):
        begin = barrier(folder, index)
        profiles.start_here()
        return begin
    http_runs.wait_for_start = profiled_barrier
result = http_runs.rh_client({url!r}, {runs}, {barrier!r}, {index})
if profiles is not None:
    profiles.stats().dump_stats({stats!r})
print(json.dumps(result))
"""


class ThreadProfiles:
    """One ``cProfile.Profile`` per thread started after :meth:`install` (and this one)."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def install(self) -> None:
        """Profile every thread started from now on."""
        threading.setprofile(self._start)

    def start_here(self) -> None:
        """Profile the calling thread from now on."""
        self._start(None, "call", None)

    def _start(self, frame: Any, event: str, arg: Any) -> None:
        # CPU time of the thread: time spent waiting (for the GIL, a lock, the network) is
        # not counted, as it would be with the default wall clock.
        profile = cProfile.Profile(time.thread_time)
        with self._lock:
            self.profiles.append(profile)
        sys.setprofile(None)
        profile.enable()  # replaces this hook for the thread

    def stats(self) -> pstats.Stats | None:
        threading.setprofile(None)  # type: ignore[arg-type]
        found = None
        for profile in self.profiles:
            profile.create_stats()
            if not getattr(profile, "stats", None):
                continue
            found = pstats.Stats(profile) if found is None else (found.add(profile) or found)
        return found


def _serve(database_url: str, profiles: ThreadProfiles) -> tuple[Any, str]:
    import uvicorn

    from runhistory.server.app import create_app
    from runhistory.server.config import ServerSettings, open_services
    from runhistory.server.runner import _config, bind

    settings = ServerSettings(backend_store_uri=database_url,
                              artifact_location=tempfile.mkdtemp())  # fmt: skip
    app = create_app(settings, open_services(settings))
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(_config(app, settings, "warning"))  # as `runhistory server`
    profiles.install()
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _clients(url: str, clients: int, runs: int, folder: Path) -> tuple[list[Any], float, str]:
    barrier = folder / "barrier"
    barrier.mkdir()
    stats = str(folder / "client.prof")
    bench = str(Path(__file__).parent)
    env = {**os.environ, "RUNHISTORY_HOME": str(folder / "home")}
    procs = [
        subprocess.Popen([sys.executable, "-c", CLIENT.format(
            bench=bench, url=url, runs=runs, barrier=str(barrier), index=i, profiled=i == 0,
            stats=stats)], stdout=subprocess.PIPE, env=env, cwd=folder)
        for i in range(clients)
    ]  # fmt: skip
    while len(list(barrier.glob("ready-*"))) < clients:
        time.sleep(0.01)
    (barrier / "go").touch()
    results, cpu = [], 0.0
    for proc in procs:
        out = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError("a client failed")
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
        cpu += usage.ru_utime + usage.ru_stime
    return results, cpu, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=200, help="runs per client")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--postgres", default=os.environ.get("RHBENCH_POSTGRES", POSTGRES))
    parser.add_argument("--save", help="folder to keep server.prof and client.prof in")
    args = parser.parse_args()
    profiles = ThreadProfiles()
    with fresh_database(args.postgres) as database, tempfile.TemporaryDirectory() as tmp:
        server, url = _serve(database, profiles)
        before = resource.getrusage(resource.RUSAGE_SELF)
        results, client_cpu, client_stats = _clients(url, args.clients, args.runs, Path(tmp))
        after = resource.getrusage(resource.RUSAGE_SELF)
        server.should_exit = True
        time.sleep(0.5)
        total = sum(r["runs"] for r in results)
        seconds = max(r["end"] for r in results) - min(r["begin"] for r in results)
        server_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"runs {total} in {seconds:.1f} s: {total / seconds:.1f} runs/s (profiled); CPU "
              f"ms per run: server {server_cpu / total * 1e3:.2f} (profiled), clients "
              f"{client_cpu / total * 1e3:.2f} (one profiled, imports included)")  # fmt: skip
        print("\n==== server (every thread) ====")
        found = profiles.stats()
        if found is not None:
            found.sort_stats(args.sort).print_stats(args.top)
        print("\n==== client 0 ====")
        pstats.Stats(client_stats).sort_stats(args.sort).print_stats(args.top)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            if found is not None:
                found.dump_stats(os.path.join(args.save, "server.prof"))
            shutil.copy(client_stats, os.path.join(args.save, "client.prof"))


if __name__ == "__main__":
    main()
