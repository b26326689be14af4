"""Aim's side of the benchmark (runs in Aim's interpreter, ``benchmarks/.venv-aim``; never imported
by runhistory's).

Every worker works on the Aim repository ``aim/`` of its working folder. Runs are opened with
system tracking, terminal-log capture and system params off (runhistory's workers log none of
those either). A finished run reaches Aim's queries only once it is indexed: the index manager
that ``aim up`` runs in the background does that; here the writer indexes its runs itself after
the timed part, with the same call (``RepoIndexManager.index``), and reports how long it took.
"""

from __future__ import annotations

import itertools
import os
import time
from typing import Any

from rhbench.b3_runs import expected_counts, properties, tags
from rhbench.common import median, peak_rss_mb, time_calls, wait_for_start

REPO = "aim"
NAME = "loss"
QUERY_REPEAT = 5


def _repo() -> Any:
    from aim import Repo

    path = os.path.abspath(REPO)
    return Repo.from_path(path, init=not os.path.isdir(os.path.join(path, ".aim")))


def _new_run(repo: Any, experiment: str) -> Any:
    """A run in ``repo`` (a Repo, or an ``aim://`` URL) with Aim's own extras off."""
    from aim import Run

    return Run(
        repo=repo,
        experiment=experiment,
        system_tracking_interval=None,
        capture_terminal_logs=False,
        log_system_params=False,
    )


def _index(repo: Any, hashes: list[str]) -> float:
    """Index finished runs (what ``aim up`` does in the background); returns seconds."""
    from aim.sdk.index_manager import RepoIndexManager

    manager = RepoIndexManager.get_index_manager(repo)
    started = time.perf_counter()
    for run_hash in hashes:
        manager.index(run_hash)
    return time.perf_counter() - started


def _quiet() -> Any:
    from aim.sdk.types import QueryReportMode

    return QueryReportMode.DISABLED


def log(points: int, chunk: int) -> dict[str, Any]:
    """B1: ``run.track(value, name=, step=)`` once per point, then ``run.close()``."""
    repo = _repo()
    run = _new_run(repo, "bench-b1")
    track, clock, blocks = run.track, time.perf_counter_ns, []
    started = clock()
    for base in range(0, points, chunk):
        block = clock()
        for i in range(base, base + chunk):
            track(i * 0.001, name=NAME, step=i)
        blocks.append(clock() - block)
    looped = clock()
    run_hash = run.hash
    run.close()  # ends the run: its data is on disk
    closed = clock()
    rss_mb = peak_rss_mb()
    index_s = _index(repo, [run_hash])
    stored = len(_metric(repo, run_hash).values.values_list())
    return {
        "points_per_s": points / ((closed - started) / 1e9),
        "loop_points_per_s": points / ((looped - started) / 1e9),
        "call_us": median(blocks) / chunk / 1e3,
        "close_s": (closed - looped) / 1e9,
        "index_s": index_s,
        "stored": stored,
        "rss_mb": rss_mb,
        "run_hash": run_hash,
    }


def _metric(repo: Any, run_hash: str) -> Any:
    from aim import Run
    from aim.storage.context import Context

    metric = Run(run_hash, repo=repo, read_only=True).get_metric(NAME, Context({}))
    if metric is None:
        raise RuntimeError(f"run {run_hash} has no metric {NAME!r} (not indexed?)")
    return metric


def read(run_hash: str, expected: int) -> dict[str, Any]:
    """B2 in a fresh process: the values (``values.values_list()``) and the whole series
    (``data.numpy()``: steps, values, epochs, timestamps) of one metric."""
    repo = _repo()
    started = time.perf_counter()
    values = _metric(repo, run_hash).values.values_list()
    values_s = time.perf_counter() - started
    started = time.perf_counter()
    steps, columns = _metric(repo, run_hash).data.numpy()
    series_s = time.perf_counter() - started
    if len(values) != expected or len(steps) != expected or len(columns[0]) != expected:
        raise RuntimeError(f"read {len(values)}/{len(steps)} points, {expected} were stored")
    return {"values_s": values_s, "series_s": series_s}


def create(runs: int, start: int = 0, experiment: str = "bench-b3") -> dict[str, Any]:
    """B3: runs ``start .. runs-1``: 10 params (``run["hparams"]``), 5 tags (``add_tag("k=v")``:
    Aim's tags are labels), 3 metrics (``track``), ``close()``. Then indexes them (untimed)."""
    repo = _repo()
    hashes = []
    started = time.perf_counter()
    for i in range(start, runs):
        run = _new_run(repo, experiment)
        run["hparams"] = properties(i)
        for key, value in tags(i).items():
            run.add_tag(f"{key}={value}")
        for j in range(3):
            run.track(i * 0.1 + j, name=f"metric{j}")
        hashes.append(run.hash)
        run.close()
    elapsed = time.perf_counter() - started
    index_s = _index(repo, hashes)
    return {"runs_per_s": (runs - start) / elapsed, "created": runs, "index_s": index_s}


def query(runs: int) -> dict[str, Any]:
    """B3 listing in a fresh process: runs with tag ``group=g3`` and param ``shard == 's1'``."""
    repo = _repo()
    text = "run.hparams.shard == 's1' and 'group=g3' in run.tags"

    def search() -> list[str]:
        return [c.run.hash for c in repo.query_runs(text, report_mode=_quiet()).iter_runs()]

    found = len(search())
    if found != expected_counts(runs)["filtered"]:
        raise RuntimeError(f"the query found {found} runs, {expected_counts(runs)} expected")
    return {"filtered_ms": median(time_calls(search, QUERY_REPEAT)) * 1e3}


def listings(runs: int, experiment: str = "bench-b3") -> dict[str, Any]:
    """B7 in a fresh process: the first 50 runs of the experiment, and of a param filter.

    The first pages are what Aim's runs search (its UI's runs table) iterates:
    ``repo.query_runs(query, paginated=True)``, in its order.
    """
    repo = _repo()

    def first(text: str, matching: int) -> list[str]:
        collection = repo.query_runs(text, paginated=True, report_mode=_quiet())
        page = [c.run.hash for c in itertools.islice(collection.iter_runs(), 50)]
        if len(page) != min(50, matching):
            raise RuntimeError(f"a first page held {len(page)} runs, not {min(50, matching)}")
        return page

    calls = {
        "first_ms": lambda: first(f"run.experiment == '{experiment}'", runs),
        "property_ms": lambda: first(
            "run.hparams.shard == 's1'", sum(i % 4 == 1 for i in range(runs))
        ),
    }
    result: dict[str, Any] = {}
    for key, call in calls.items():
        call()  # warm-up, as runhistory's listings
        result[key] = median(time_calls(call, QUERY_REPEAT)) * 1e3
    return result


def remote_log(url: str, points: int, barrier: str | None, index: int) -> dict[str, Any]:
    """B4: ``run.track`` one point per call to ``aim server`` (``aim://``), then ``close()``
    (which waits until the server has taken every point)."""
    run = _new_run(url, "bench-b4")
    track = run.track
    begin = wait_for_start(barrier, index) if barrier else time.time()
    for i in range(points):
        track(i * 0.001, name=NAME, step=i)
    run_hash = run.hash
    run.close()
    return {"begin": begin, "end": time.time(), "points": points, "run_hash": run_hash}


def count_points(hashes: list[str]) -> dict[str, Any]:
    """After ``aim server`` stopped: index its runs (what ``aim up`` would) and count points."""
    repo = _repo()
    _index(repo, hashes)
    return {"stored": [len(_metric(repo, run_hash).values.values_list()) for run_hash in hashes]}
