"""The server workloads: B4 (logging over HTTP), B5 (chart reads) and B6's server starts.

One *session* per side and repetition: a fresh PostgreSQL database, the server started on it
(B6: start on an empty database), the B4 clients, and in ``--quick`` mode the B5 reads too;
then the server is stopped and started again on the same database (B6: existing database;
full mode only). Sides alternate between repetitions. At full size B5 has its own server per
side (populated once), see :func:`rhbench.b5_chart.run`.
"""

from __future__ import annotations

from collections.abc import Callable

from rhbench import b4_http, b4_keepalive, b5_chart, b6_start
from rhbench.harness import ML, RH, Harness, Result
from rhbench.pg import fresh_database
from rhbench.servers import running


def session(h: Harness, side: str, parts: set[str]) -> Result:
    """One side's session; returns every number it measured."""
    quick = h.settings.quick
    folder = h.scratch(f"http-{side}")
    with fresh_database(h.settings.postgres_url) as db:
        with running(h, side, db, folder) as server:
            result: Result = {"fresh_s": server.started_s}
            if "B4" in parts:
                result |= b4_http.measure(h, side, server.url, quick)
                result |= b4_keepalive.measure(h, side, server.url)
            if "B5" in parts and quick:
                run_ids = b5_chart.populate(h, side, db, quick)
                result |= b5_chart.read(h, side, server.url, run_ids, quick)
        if "B6" in parts and not quick:
            with running(h, side, db, folder) as again:
                result["existing_s"] = again.started_s
    return result


def run(h: Harness) -> None:
    """Run the sessions the chosen workloads need and add their rows."""
    parts = {"B4", "B5", "B6"} & h.settings.only
    if parts - ({"B5"} if not h.settings.quick else set()):

        def measure(side: str) -> Callable[[int], Result]:
            return lambda rep: session(h, side, parts)

        results = h.alternate("HTTP session", {RH: measure(RH), ML: measure(ML)})
        if "B4" in parts:
            b4_http.add_rows(h, results)
            b4_keepalive.add_rows(h, results)
        if "B5" in parts and h.settings.quick:
            b5_chart.add_row(h, results)
        if "B6" in parts:
            b6_start.add_server_rows(h, results)
    if "B5" in parts and not h.settings.quick:
        b5_chart.run(h)
