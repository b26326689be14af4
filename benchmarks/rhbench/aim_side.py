"""Aim, the second peer: its sizes, its measurements as harness sides, and its table cells.

Aim runs only in its own interpreter (:mod:`rhbench.aim_workers` in ``benchmarks/.venv-aim``).
It has an equivalent for B1 (``run.track`` one point per call, then ``run.close()``), B2 (reading
one metric), B3 (creating runs; a query by params and tags — it records no run status), B7 (the
first 50 runs of its runs search), B4 through ``aim server``, and B6's imports. Aim writes about
10,000 points/s and creates 10-20 runs/s on one core here, so its sizes are smaller and its
rates and read times are extrapolated linearly to runhistory's sizes (marked "extrap."); its
listing corpus (B3, B7) is the largest feasible in the benchmark's time, and its size is in its
column.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from rhbench import b4_http
from rhbench.harness import AIM, RH, Harness, Result, Row
from rhbench.report import TIMES
from rhbench.servers import stop

MODULE = "aim_workers"
STORAGE = "- / - / Aim repo"  # rows only Aim filled (runhistory's workload did not run)
NO_STATUS = "no equivalent: no run status"
# Why Aim has no number in the other workloads' rows.
NO_EQUIVALENT = {
    "B4": "not measured",
    "B5": "not measured",
    "B6": "not measured: aim up",
    "B8": "not measured",
    "B9": "no equivalent",
    "B10": "no equivalent",
}


def sizes(quick: bool) -> dict[str, int]:
    """Aim's sizes: points of B1 and B2, runs created per B3 repetition, listing corpus."""
    if quick:
        return {"b1": 5_000, "b2": 10_000, "b3": 10, "corpus": 100}
    return {"b1": 20_000, "b2": 100_000, "b3": 100, "corpus": 1_000}


def extrapolated(size: int, target: int, text: str = "") -> str:
    """The size cell: ``size`` (with ``text``), marked when it is smaller than ``target``."""
    cell = f"{size:,}{text}"
    return cell + " (extrap.)" if size < target else cell


# ---- B1 ---------------------------------------------------------------------------------
def b1_side(h: Harness) -> Any:
    """The B1 measurement: one point per ``run.track`` call, then ``run.close()``."""
    points = sizes(h.settings.quick)["b1"]
    return lambda rep: h.call(AIM, MODULE, "log", {"points": points, "chunk": 100})


def b1_cells(h: Harness, rows: dict[str, Row], got: list[Result] | str, target: int) -> None:
    """Fill Aim's cells of B1 (rows by their runhistory result key)."""
    size = sizes(h.settings.quick)["b1"]
    for key, aim_key in (("points_per_s", "points_per_s"), ("call_us", "call_us")):
        rows[key].aim_size = extrapolated(size, target)
        h.fill(rows[key], AIM, got, aim_key)
    rows["rss_mb"].aim_size = f"{size:,}"
    h.fill(rows["rss_mb"], AIM, got, "rss_mb")
    if isinstance(got, list):
        for result in got:
            if result["stored"] != size:
                h.errors.append(f"B1 Aim stored {result['stored']} of {size} points")


# ---- B2 ---------------------------------------------------------------------------------
def b2_side(h: Harness, target: int) -> Any:
    """The B2 measurement: a metric of fewer points, read times scaled to ``target`` points."""
    size = sizes(h.settings.quick)["b2"]
    folder = h.scratch("b2-aim")
    prepared: dict[str, str] = {}

    def measure(rep: int) -> Result:
        if "hash" not in prepared:
            made = h.call(AIM, MODULE, "log", {"points": size, "chunk": 1000}, folder)
            prepared["hash"] = made["run_hash"]
        params = {"run_hash": prepared["hash"], "expected": size}
        result = h.call(AIM, MODULE, "read", params, folder)
        scale = target / size
        return {"values_s": result["values_s"] * scale, "series_s": result["series_s"] * scale}

    return measure


def b2_cells(h: Harness, rows: dict[str, Row], got: list[Result] | str, target: int) -> None:
    """Fill Aim's cells of B2: ``get_metrics`` ~ values only, ``get_metric_history`` ~ series."""
    size = extrapolated(sizes(h.settings.quick)["b2"], target)
    for key, aim_key in (("get_metrics_s", "values_s"), ("history_s", "series_s")):
        rows[key].aim_size = size
        h.fill(rows[key], AIM, got, aim_key)
    h.notes.append(
        "B2 Aim: get_metric(name, Context({})).values.values_list() (values) and "
        ".data.numpy() (steps, values, epochs, timestamps), in a fresh process; times scaled "
        "linearly to runhistory's point count when the size says extrap."
    )


# ---- B3 ---------------------------------------------------------------------------------
def b3_create_side(h: Harness) -> Any:
    """Each repetition creates runs in a fresh repo; the first repo becomes the listing corpus."""
    runs = sizes(h.settings.quick)["b3"]

    def measure(rep: int) -> Result:
        folder = h.scratch("b3-aim")
        result = h.call(AIM, MODULE, "create", {"runs": runs}, folder)
        h.corpora.setdefault(AIM, (folder, runs))
        return result

    return measure


def b3_create_cells(h: Harness, row: Row, got: list[Result] | str, target: int) -> None:
    """Fill Aim's creation rate (extrapolated from fewer runs)."""
    row.aim_size = extrapolated(sizes(h.settings.quick)["b3"], target)
    h.fill(row, AIM, got, "runs_per_s")
    if isinstance(got, list) and got:
        per_run = sum(r["index_s"] for r in got) / sum(r["created"] for r in got)
        h.notes.append(
            f"B3 Aim: runs reach its queries once indexed (what `aim up` does in the "
            f"background): {per_run * 1e3:.0f} ms per run, not in its creation rate"
        )


def corpus(h: Harness) -> tuple[Path, int]:
    """Aim's listing corpus (folder, runs), grown (untimed) to its size on first use."""
    want = sizes(h.settings.quick)["corpus"]
    if AIM not in h.corpora:
        h.python(AIM)  # raises NotAvailable when Aim is not installed
        h.corpora[AIM] = (h.scratch("b3-aim"), 0)
    folder, made = h.corpora[AIM]
    if made < want:
        result = h.call(AIM, MODULE, "create", {"runs": want, "start": made}, folder)
        h.corpora[AIM] = (folder, want)
        h.notes.append(
            f"Aim listing corpus: {want:,} runs in one experiment, made through its SDK at "
            f"{result['runs_per_s']:.1f} runs/s (then indexed in {result['index_s']:.0f} s); "
            "larger corpora were not feasible in the benchmark's time"
        )
    return folder, want


def b3_query_side(h: Harness) -> Any:
    """The B3 listing: runs with tag ``group=g3`` and param ``shard == 's1'``."""

    def measure(rep: int) -> Result:
        folder, runs = corpus(h)
        return h.call(AIM, MODULE, "query", {"runs": runs}, folder)

    return measure


def b3_query_cells(h: Harness, filtered: Row, status: Row, got: list[Result] | str) -> None:
    """Fill Aim's B3 listing cells."""
    made = h.corpora.get(AIM)
    filtered.aim_size = f"{made[1]:,} runs" if made else ""
    h.fill(filtered, AIM, got, "filtered_ms")
    status.aim_status = NO_STATUS


# ---- B4 ---------------------------------------------------------------------------------
def b4(h: Harness) -> None:
    """B4 for Aim: clients tracking to ``aim server`` (its remote tracking server, on its own
    repo: Aim has no PostgreSQL backend), one client, then concurrent client processes."""
    quick = h.settings.quick
    points, many, count = (1_000, 500, 2) if quick else (5_000, 2_000, 8)
    sides = {AIM: lambda rep: _b4_session(h, points, many, count)}
    got = h.alternate("B4 Aim server", sides)[AIM]
    target = b4_http.sizes(quick)
    for prefix, key, size in (
        ("HTTP, 1 client", "one", extrapolated(points, target[RH])),
        (f"HTTP, {count} client", "many", f"{count} {TIMES} {extrapolated(many, target[RH])}"),
    ):
        row = _row(h, "B4", prefix, "points/s", higher=True)
        row.aim_size = size
        h.fill(row, AIM, got, key)
    h.notes.append(
        "B4 Aim: `aim server` (its remote tracking server; it stores into its own repo, not "
        "PostgreSQL), clients run.track one point per call to aim://…, rate until close() "
        "returned; every point counted after the server stopped (once its runs are indexed)"
    )


def _b4_session(h: Harness, points: int, many: int, count: int) -> Result:
    folder = h.scratch("b4-aim")
    h.call(AIM, MODULE, "create", {"runs": 0}, folder)  # an empty repo in folder/aim
    port = _free_port()
    command = [str(Path(h.python(AIM)).with_name("aim")), "server", "--repo", str(folder / "aim")]
    # In a session of its own: `aim server` runs uvicorn as a child that outlived a stop of
    # the `aim` process alone; the whole group is stopped (as the other sides' servers are).
    server = subprocess.Popen(
        [*command, "--port", str(port), "-y"],
        cwd=folder,
        env=h.env(AIM, folder),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for_port(port, server)
        url = f"aim://127.0.0.1:{port}"
        one = _clients(h, url, 1, points)
        total = _clients(h, url, count, many)
    finally:
        stop(server)
    hashes = one["hashes"] + total["hashes"]
    stored = h.call(AIM, MODULE, "count_points", {"hashes": hashes}, folder)["stored"]
    if stored != [points] + [many] * count:
        raise RuntimeError(f"Aim server stored {stored} points per client")
    return {"one": one["points_per_s"], "many": total["points_per_s"]}


def _clients(h: Harness, url: str, count: int, points: int) -> Result:
    folder = h.scratch("b4-aim-clients")
    barrier = str(folder) if count > 1 else None
    processes = [
        h.spawn(
            AIM,
            MODULE,
            "remote_log",
            {"url": url, "points": points, "barrier": barrier, "index": i},
            h.scratch(f"b4-aim-{i}"),
        )
        for i in range(count)
    ]
    if barrier:
        h.start_together(folder, processes)
    results = h.collect_all(processes)
    begin = min(r["begin"] for r in results)
    rate = count * points / (max(r["end"] for r in results) - begin)
    return {"points_per_s": rate, "hashes": [r["run_hash"] for r in results]}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"aim server exited with status {server.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"aim server did not listen on port {port} within {timeout:.0f} s")


# ---- B7 ---------------------------------------------------------------------------------
def b7(h: Harness) -> None:
    """B7 for Aim: first pages of its runs search over its listing corpus (after runhistory's)."""

    def measure(rep: int) -> Result:
        folder, runs = corpus(h)
        return h.call(AIM, MODULE, "listings", {"runs": runs}, folder)

    got = h.alternate("B7 Aim list", {AIM: measure})[AIM]
    made = h.corpora.get(AIM)
    size = f"{made[1]:,} runs" if made else ""
    for prefix, key in (
        ("get_runs() first 50", "first_ms"),
        ("get_runs(properties=", "property_ms"),
    ):
        row = _row(h, "B7", prefix)
        row.aim_size = size
        h.fill(row, AIM, got, key)
    for row in h.rows:
        if row.workload == "B7" and not row.aim and not row.aim_status:
            row.aim_status = NO_STATUS if "status" in row.measure else "not measured"
    h.notes.append(
        "B7 Aim: the first 50 of repo.query_runs(q, paginated=True) (what its UI's runs search "
        "iterates), q = the experiment, then run.hparams.shard == 's1' (a quarter of the runs; "
        "runhistory's filter matches 1 in 100); fresh process, median of 5 after a warm-up"
    )


def _row(h: Harness, workload: str, prefix: str, unit: str = "ms", higher: bool = False) -> Row:
    """The row of runhistory's measure starting with ``prefix``, or a new one if it did not run."""
    for row in h.rows:
        same = row.workload == workload and row.unit == unit and not row.aim
        if same and row.measure.startswith(prefix):
            return row
    row = Row(workload, prefix + "…", unit, higher, "", "", STORAGE)
    h.rows.append(row)
    return row


def finish(h: Harness) -> None:
    """Name Aim's storage in the rows it has numbers in; say why it has none in the others."""
    for row in h.rows:
        if row.aim and row.storage not in ("", "-") and "Aim" not in row.storage:
            server = "aim server + " if row.workload == "B4" else ""
            row.storage += f" / {server}Aim repo"
        elif row.aim or row.aim_status or row.measure.strip().startswith("vs MLflow"):
            continue  # a "vs MLflow" row compares MLflow's variants: "-" for Aim
        elif row.workload in NO_EQUIVALENT:
            row.aim_status = NO_EQUIVALENT[row.workload]
