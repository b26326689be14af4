"""The benchmark harness (benchmarks/rhbench): workers, alternation, error cells and tables.

MLflow and Aim are not needed here: their sides are reported as not available. `make bench-quick`
runs the real thing against both (building their venvs under benchmarks/ on first use). The
database helpers run against the tests' PostgreSQL server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import run
from rhbench import aim_side, b3_runs, b10_mlflow_api, http_runs, pg
from rhbench.harness import (
    AIM,
    ML,
    RH,
    Harness,
    NotAvailable,
    Row,
    Settings,
    TimedOut,
    WorkerError,
    group_pids,
)
from rhbench.report import markdown_table, number, text_table

from support.services import POSTGRES_URL


@pytest.fixture
def harness() -> Iterator[Harness]:
    settings = Settings(
        quick=True,
        reps=2,
        only={"B1"},
        mlflow_python=None,
        mlflow_version="not installed",
        postgres_url="postgresql://postgres@127.0.0.1:5432/postgres",
    )
    h = Harness(settings)
    yield h
    h.cleanup()


def test_numbers_are_readable() -> None:
    assert number(1234567.8) == "1,234,568"
    assert number(42.42) == "42.4"
    assert number(0.012345) == "0.0123"
    assert number(None) == "-"


def test_advantage_follows_the_direction_of_the_unit() -> None:
    rate = Row("B1", "log", "points/s", True, "1", "1", "-", rh=[300.0, 100.0, 200.0], ml=[2.0])
    latency = Row("B2", "read", "s", False, "1", "1", "-", rh=[0.5], ml=[5.0, 4.0, 6.0])
    assert rate.advantage() == 100.0  # median 200 / 2
    assert latency.advantage() == 10.0  # 5 s / 0.5 s


def test_tables_show_a_status_where_a_side_has_no_number() -> None:
    row = Row("B4", "HTTP", "points/s", True, "10", "10", "server", rh=[5.0])
    row.ml_status = "n/a: no server"
    text = text_table([row])
    assert "n/a: no server" in text and "rh \u00d7" in text.splitlines()[0]
    line = markdown_table([row]).splitlines()[2]
    assert line.startswith("| B4 | HTTP | points/s | 5 | 10 | n/a: no server |")


def test_listing_expectations_match_the_generated_runs() -> None:
    runs = 200
    filtered = [
        i
        for i in range(runs)
        if b3_runs.tags(i)["group"] == "g3" and b3_runs.properties(i)["shard"] == "s1"
    ]
    failed = [i for i in range(runs) if b3_runs.failed(i)]
    assert b3_runs.expected_counts(runs) == {"filtered": len(filtered), "failed": len(failed)}
    assert len(b3_runs.properties(7)) == 10 and len(b3_runs.tags(7)) == 5


def test_a_worker_runs_in_a_fresh_process_and_returns_json(harness: Harness) -> None:
    assert harness.call(RH, "b3_runs", "expected_counts", {"runs": 40}) == {
        "filtered": 2,
        "failed": 4,
    }


def test_a_failing_worker_raises_with_its_error(harness: Harness) -> None:
    with pytest.raises(WorkerError, match="StatisticsError"):
        harness.call(RH, "common", "median", {"values": []})


def test_alternation_turns_failures_into_cells_and_errors(harness: Harness) -> None:
    order: list[str] = []

    def rh_side(rep: int) -> dict[str, float]:
        order.append(f"rh{rep}")
        return {"value": float(rep)}

    def failing(rep: int) -> dict[str, float]:
        order.append(f"bad{rep}")
        raise WorkerError("exit status 1: boom")

    results = harness.alternate("T", {RH: rh_side, ML: failing})
    assert order == ["rh0", "bad0", "rh1"]  # sides alternate; a failed side is not retried
    assert results[RH] == [{"value": 0.0}, {"value": 1.0}]
    assert results[ML] == "error: exit status 1: boom"
    assert harness.errors == ["T mlflow: WorkerError: exit status 1: boom"]


def test_a_side_that_cannot_run_is_not_an_error(harness: Harness) -> None:
    def unavailable(rep: int) -> dict[str, float]:
        raise NotAvailable("no server command")

    results = harness.alternate("T", {ML: unavailable})
    assert results[ML] == "n/a: no server command"
    assert harness.errors == []
    with pytest.raises(NotAvailable):
        harness.python(ML)  # no MLflow venv configured


def test_the_runhistory_logging_worker_stores_every_point(harness: Harness) -> None:
    result = harness.call(RH, "b1_log", "rh_log", {"points": 3000, "chunk": 1000})
    assert result["stored"] == 3000
    assert result["points_per_s"] > 0 and result["call_us"] > 0 and result["rss_mb"] > 0


def test_the_table_has_an_aim_column_with_its_own_ratio() -> None:
    row = Row("B3", "query", "ms", False, "10,000 runs", "10,000 runs", "-", rh=[2.0], ml=[8.0])
    row.aim, row.aim_size = [30.0, 10.0, 20.0], "1,000 runs"
    assert row.advantage(ML) == 4.0 and row.advantage(AIM) == 10.0  # 20 ms / 2 ms
    header, _, line = text_table([row]).splitlines()
    assert header.index("MLflow") < header.index("Aim") < header.index("rh \u00d7 Aim")
    assert line.split()[-5:-1] == ["20.0", "1,000", "runs", "10.0\u00d7"]
    cells = markdown_table([row]).splitlines()[2].split(" | ")
    assert cells[8:11] == ["20.0", "1,000 runs", "10.0\u00d7"]


def test_rows_name_aim_storage_or_say_it_has_no_equivalent(harness: Harness) -> None:
    measured = Row("B1", "log", "points/s", True, "1", "1", "SQLite file", aim=[5.0])
    server = Row("B4", "HTTP", "points/s", True, "1", "1", "-")
    system = Row("B9", "system metrics", "ms", False, "1", "-", "-")
    imports = Row("B6", "import", "ms", False, "1", "1", "-", aim=[900.0])
    variant = Row("B4", "  vs MLflow log_metric", "points/s", True, "1", "1", "server")
    harness.rows += [measured, server, system, imports, variant]
    aim_side.finish(harness)
    assert measured.aim_status == "" and measured.storage == "SQLite file / Aim repo"
    assert server.aim_status == aim_side.NO_EQUIVALENT["B4"]
    assert system.aim_status == "no equivalent"
    assert imports.storage == "-" and variant.aim_status == ""
    assert "no equivalent" in text_table(harness.rows)


def test_aim_sizes_are_marked_extrapolated_below_runhistorys() -> None:
    full = aim_side.sizes(quick=False)
    assert aim_side.extrapolated(full["b1"], 1_000_000) == "20,000 (extrap.)"
    assert aim_side.extrapolated(500, 500, " runs") == "500 runs"


def test_without_its_venv_aim_is_not_available_and_not_an_error(harness: Harness) -> None:
    harness.settings.aim_missing = "not installed"
    results = harness.alternate("T", {AIM: lambda rep: harness.call(AIM, "common", "median", {})})
    assert results[AIM] == "n/a: not installed"
    assert harness.errors == []


def test_no_aim_leaves_its_venv_alone(tmp_path: Path) -> None:
    venv = tmp_path / "venv-aim"
    assert run.aim_peer(run.parse_args(["--quick", "--no-aim"]), venv=venv) == (
        None,
        "not used",
        "--no-aim",
    )
    assert not venv.exists()


def test_aim_cells_go_into_runhistorys_row_of_the_same_measure(harness: Harness) -> None:
    one = Row("B4", "HTTP, 1 client: log → flush", "points/s", True, "1", "1", "-")
    many = Row("B4", "HTTP, 8 client processes, total", "points/s", True, "8", "8", "-")
    harness.rows += [one, many]
    assert aim_side._row(harness, "B4", "HTTP, 8 client", "points/s", higher=True) is many
    added = aim_side._row(harness, "B7", "get_runs() first 50")  # runhistory's B7 did not run
    assert harness.rows[-1] is added and added.measure == "get_runs() first 50…"


def test_a_named_database_stays_until_it_is_dropped() -> None:
    name = f"bench_test_{uuid.uuid4().hex[:8]}"
    assert not pg.database_exists(POSTGRES_URL, name)
    pg.create_database(POSTGRES_URL, name)
    try:
        assert pg.database_exists(POSTGRES_URL, name)
    finally:
        pg.drop_database(POSTGRES_URL, name)
    assert not pg.database_exists(POSTGRES_URL, name)


def test_b10_reuses_its_searched_databases_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(b10_mlflow_api.REUSE, raising=False)
    assert not b10_mlflow_api.reuse()
    for value, wanted in (("1", True), ("yes", True), ("0", False), ("", False)):
        monkeypatch.setenv(b10_mlflow_api.REUSE, value)
        assert b10_mlflow_api.reuse() is wanted


def gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie not yet reaped by its new parent counts)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def wait_gone(pids: list[int]) -> bool:
    deadline = time.monotonic() + 10
    while not all(gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return all(gone(pid) for pid in pids)


def test_a_repetition_past_its_limit_is_killed_and_the_next_row_runs(
    harness: Harness, tmp_path: Path
) -> None:
    harness.settings.timeout = 2  # seconds for every repetition
    pid_file = tmp_path / "pids"

    def hangs(rep: int) -> dict[str, float]:
        params = {"seconds": 600, "pid_file": str(pid_file)}
        return harness.call(RH, "selftest", "sleep_with_child", params)

    results = harness.alternate("T", {RH: hangs, ML: lambda rep: {"value": 1.0}})
    assert isinstance(results[RH], str) and results[RH].startswith("timed out after")
    assert "limit 2 s" in results[RH]
    assert results[ML] == [{"value": 1.0}, {"value": 1.0}]  # the other side went on
    assert len(harness.errors) == 1
    assert "runhistory selftest.sleep_with_child still running after" in harness.errors[0]
    worker, child = map(int, pid_file.read_text().split())
    assert wait_gone([worker, child]), "the worker's process group was not killed"
    row = harness.fill(Row("T", "hang", "s", False, "1", "1", "-"), RH, results[RH], "value")
    assert "timed out" in text_table([row])


def test_concurrent_workers_past_the_limit_are_named_and_killed(
    harness: Harness, tmp_path: Path
) -> None:
    flag = str(tmp_path / "never")
    workers = [
        harness.spawn(RH, "selftest", "wait_for", {"flag": flag, "timeout": 600}, tmp_path)
        for _ in range(3)
    ]
    with pytest.raises(TimedOut, match=r"3 of 3 runhistory selftest\.wait_for workers still"):
        harness.collect_all(workers, timeout=1)
    assert wait_gone([w.pid for w in workers])
    assert not any(group_pids(w.pid) for w in workers)


def test_the_harness_own_wait_past_the_limit_is_interrupted(harness: Harness) -> None:
    harness.settings.timeout = 1
    harness.grace = 0.5

    def waits_in_the_harness(rep: int) -> dict[str, float]:
        time.sleep(600)  # e.g. a server that never answers its health check
        return {"value": 1.0}

    results = harness.alternate("T", {RH: waits_in_the_harness}, reps=1)
    assert isinstance(results[RH], str) and results[RH].startswith("timed out")
    assert "the harness itself still waited" in harness.errors[0]


def test_a_worker_writing_much_never_blocks_on_unread_output(
    harness: Harness, tmp_path: Path
) -> None:
    # The writer's output is far beyond a pipe's 64 KiB; it is collected after the waiter,
    # which only ends once the writer has written everything.
    flag = str(tmp_path / "written")
    writer = harness.spawn(RH, "selftest", "chatter", {"size": 1_000_000, "flag": flag}, tmp_path)
    waiter = harness.spawn(RH, "selftest", "wait_for", {"flag": flag, "timeout": 60}, tmp_path)
    assert harness.collect(waiter, timeout=120) == {"seen": True}
    assert harness.collect(writer, timeout=120) == {"written": 1_000_000}


def test_a_client_failing_before_the_start_calls_it_off_for_the_others(
    harness: Harness, tmp_path: Path
) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    workers = [
        harness.spawn(
            RH,
            "selftest",
            "client",
            {"barrier": str(barrier), "index": i, "fail": i == 2},
            harness.scratch(f"client-{i}"),
        )
        for i in range(4)
    ]
    with pytest.raises(WorkerError, match="client 2 failed before the start"):
        harness.start_together(barrier, workers, timeout=120)
    assert (barrier / "abort").exists() and not (barrier / "go").exists()
    assert wait_gone([w.pid for w in workers]), "a client still waits for the start"


def test_clients_that_are_all_ready_start_together(harness: Harness, tmp_path: Path) -> None:
    workers = [
        harness.spawn(RH, "selftest", "client", {"barrier": str(tmp_path), "index": i}, tmp_path)
        for i in range(3)
    ]
    harness.start_together(tmp_path, workers, timeout=120)
    results = harness.collect_all(workers, timeout=120)
    assert [r["index"] for r in results] == [0, 1, 2]


def test_a_client_left_without_a_start_signal_gives_up(tmp_path: Path) -> None:
    from rhbench.common import wait_for_start

    with pytest.raises(RuntimeError, match="no start signal within"):
        wait_for_start(str(tmp_path), 0, timeout=0.2)
    (tmp_path / "abort").touch()
    with pytest.raises(RuntimeError, match="called the start off"):
        wait_for_start(str(tmp_path), 1, timeout=60)


def test_time_limits_come_from_the_workload_the_scale_or_the_option(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert harness.repetition_limit(100) == 100
    assert harness.repetition_limit(None) == harness.default_timeout()
    harness.settings.timeout_scale = 2.5
    assert harness.repetition_limit(100) == 250
    harness.settings.timeout = 30
    assert harness.repetition_limit(100) == 75  # --timeout replaces the workload's, scaled
    monkeypatch.setenv("RHBENCH_TIMEOUT_SCALE", "3")
    monkeypatch.setenv("RHBENCH_TIMEOUT", "45")
    args = run.parse_args(["--quick"])
    assert (args.timeout, args.timeout_scale) == (45.0, 3.0)
    args = run.parse_args(["--timeout-scale", "1.5", "--timeout", "90"])
    assert (args.timeout, args.timeout_scale) == (90.0, 1.5)
    full, quick = http_runs.b3_limits(quick=False), http_runs.b3_limits(quick=True)
    assert full[ML] > quick[ML] and full[RH] > quick[RH]


def test_peer_clients_fail_fast_and_report_nothing_outside(harness: Harness) -> None:
    env = harness.env(ML, Path("/tmp"))
    # MLflow's default: 7 retries with backoff, about 4 minutes of sleep per failing request
    assert env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "3"
    assert env["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] == "1"
    assert env["MLFLOW_DISABLE_TELEMETRY"] == "true" and env["DO_NOT_TRACK"] == "true"


def test_cleanup_kills_what_still_runs(tmp_path: Path) -> None:
    settings = Settings(False, 1, {"B1"}, None, "not installed", "postgresql://unused")
    h = Harness(settings)
    worker = h.spawn(RH, "selftest", "wait_for", {"flag": str(tmp_path / "x"), "timeout": 600},
                     tmp_path)  # fmt: skip
    h.cleanup()
    assert wait_gone([worker.pid])
    assert os.path.exists(tmp_path)


def test_a_server_its_caller_could_not_stop_goes_with_the_repetition(
    harness: Harness, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    with harness.repetition(60):
        server = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True
        )
        harness.adopt(server, "runhistory server", log)
    assert wait_gone([server.pid])
    assert server.poll() is not None


def test_a_lasting_server_outlives_the_repetition_that_started_it(
    tmp_path: Path,
) -> None:
    # B5 at full size: the first repetition starts each side's server, every later one reads
    # from it; only the caller (or the harness's cleanup) stops it.
    settings = Settings(False, 1, {"B5"}, None, "not installed", "postgresql://unused")
    h = Harness(settings)
    log = tmp_path / "server.log"
    server = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True
    )
    try:
        with h.repetition(60):
            h.adopt(server, "runhistory server", log, lasting=True)
        with h.repetition(60):
            pass
        assert server.poll() is None
    finally:
        h.cleanup()
    assert wait_gone([server.pid])
