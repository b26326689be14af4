"""The benchmark harness (benchmarks/rhbench): workers, alternation, error cells and tables.

MLflow and Aim are not needed here: their sides are reported as not available. `make bench-quick`
runs the real thing against both (building their venvs under benchmarks/ on first use). The
database helpers run against the tests' PostgreSQL server.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import run
from rhbench import aim_side, b3_runs, b10_mlflow_api, pg
from rhbench.harness import AIM, ML, RH, Harness, NotAvailable, Row, Settings, WorkerError
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
