"""The studio's finer points in a real browser: the view state of the runs table in the URL,
rows of one height at 20,000 runs, one colour per run, metrics logged once and text metrics,
NaN, the log viewer (ANSI colours, progress bars), tracebacks, the package table, filter
errors, a killed script's run, and comparing 300 runs in a handful of requests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from typing import Any

import httpx
import pytest
from helpers import Studio, expect_chart, open_page, run_rows, wait_rows
from studio_data import MANY_RUNS, SWEEP_RUNS, TQDM_FINAL

TWO_FRAMES = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


def runs_path(experiment_id: str, query: str = "") -> str:
    return f"#/experiments/{experiment_id}" + (f"?{query}" if query else "")


def run_path(studio: Studio, run_id: str, tab: str = "") -> str:
    path = f"#/experiments/{studio.demo.extras_experiment_id}/runs/{run_id}"
    return path + (f"/{tab}" if tab else "")


def find_experiment(studio: Studio, name: str) -> str:
    found = httpx.get(f"{studio.url}/api/v1/experiments", params={"name": name}).json()
    return str(found["items"][0]["experiment_id"])


def mark(page: Any, name: str) -> float:
    """Milliseconds from navigation start to the performance mark ``name``."""
    page.wait_for_function(f"() => performance.getEntriesByName('{name}').length > 0")
    return float(page.evaluate(f"performance.getEntriesByName('{name}')[0].startTime"))


@pytest.fixture(scope="module")
def many_runs(studio: Studio) -> str:
    studio.wait_for_bulk()
    return find_experiment(studio, "many-runs")


# ---- runs table -------------------------------------------------------------------------


def test_page_does_not_scroll_into_blank_space_past_the_table(page: Any, many_runs: str) -> None:
    open_page(page, runs_path(many_runs))
    page.wait_for_selector("#runs tbody tr[data-run]")
    # The table is as tall as every run once the count arrived (a request of its own): a
    # scroll to the end before it would only reach the end of the first page.
    page.wait_for_function(
        f"() => document.querySelector('#run-count')?.textContent === "
        f"'{MANY_RUNS} of {MANY_RUNS} runs'"
    )
    page.locator(".runs-scroll").evaluate("el => el.scrollTop = el.scrollHeight")
    page.locator('#runs tr[data-number="1"]').wait_for()
    overflow = page.evaluate("document.documentElement.scrollHeight - window.innerHeight")
    assert overflow < 100, f"the page scrolls {overflow} px past the runs table"


def test_rows_of_20000_runs_scroll_with_no_blank_rows(
    page: Any, many_runs: str, record_property: Any
) -> None:
    # the properties column holds long values: rows must still be of one height
    open_page(page, runs_path(many_runs, "cols=duration,start,tags,properties"))
    first_rows_ms = mark(page, "runhistory:runs-table")
    page.wait_for_function(
        f"() => document.querySelector('#run-count')?.textContent === "
        f"'{MANY_RUNS} of {MANY_RUNS} runs'"
    )
    scroller = page.locator(".runs-scroll")
    heights = page.eval_on_selector_all(
        "#runs tbody tr[data-run]", "rows => rows.map(r => r.getBoundingClientRect().height)"
    )
    assert len(set(round(h, 1) for h in heights)) == 1, heights
    steps = 40
    blank = []
    for k in range(steps + 1):
        scroller.evaluate(f"el => el.scrollTop = (el.scrollHeight - el.clientHeight) * {k / steps}")
        # two frames: the scroll event has been handled and the rows of the new position
        # rendered (however slow the machine); rows past the pages loaded so far show as
        # placeholders until their pages arrive
        page.evaluate(TWO_FRAMES)
        page.wait_for_function("() => !document.querySelector('#runs tr.placeholder')")
        hits = scroller.evaluate(
            """el => {
                const box = el.getBoundingClientRect();
                return [0.25, 0.5, 0.95].map(f => {
                    const y = box.top + 40 + (box.height - 50) * f;
                    const hit = document.elementFromPoint(box.left + 60, y);
                    return Boolean(hit && hit.closest('tr[data-run]'));
                });
            }"""
        )
        if not all(hits):
            blank.append(k)
    assert not blank, f"blank rows at scroll steps {blank} of {steps}"
    page.locator('#runs tr[data-number="1"]').wait_for()  # the oldest run, at the very end
    record_property("first_rows_ms_20000_runs_with_properties", first_rows_ms)
    print(f"\n{MANY_RUNS}-run table: first rows after {first_rows_ms:.0f} ms")


def test_view_state_survives_back_and_reload(page: Any, studio: Studio) -> None:
    experiment_id = studio.demo.extras_experiment_id
    open_page(page, runs_path(experiment_id))
    page.wait_for_selector("#runs tbody tr[data-run]")
    page.get_by_label("filter runs").fill("wide")
    page.wait_for_function(  # the server has answered the filter
        f"() => document.querySelector('#run-count')?.textContent"
        f".startsWith('{len(studio.demo.wide_ids)} of')"
    )
    page.get_by_role("button", name="#").click()  # ascending by number
    chosen = studio.demo.wide_ids[:2]
    for run_id in chosen:
        page.locator(f'#runs tr[data-run="{run_id}"] input[type=checkbox]').check()
    page.locator(".runs-scroll").evaluate("el => el.scrollTop = 300")
    page.wait_for_function("() => location.hash.includes('top=300')")
    rows = run_rows(page)

    def same_view() -> None:
        page.wait_for_selector("#runs tbody tr[data-run]")
        assert page.get_by_label("filter runs").input_value() == "wide"
        assert page.locator('th[data-column="number"]').get_attribute("aria-sort") == "ascending"
        for run_id in chosen:
            box = page.locator(f'#runs tr[data-run="{run_id}"] input[type=checkbox]')
            assert box.is_checked()
        page.wait_for_function("() => document.querySelector('.runs-scroll').scrollTop === 300")
        assert run_rows(page) == rows
        assert page.locator("#compare").inner_text().strip() == "Compare (2)"

    page.locator(f'#runs tr[data-run="{studio.demo.wide_ids[10]}"] td.name a').click()
    page.locator(".run-header").wait_for()
    page.go_back()
    same_view()
    page.reload()
    same_view()
    page.go_forward()  # back/forward once more: still a run page, then the same view
    page.locator(".run-header").wait_for()
    page.go_back()
    same_view()


def test_unreadable_filter_terms_are_reported(page: Any, studio: Studio) -> None:
    open_page(page, runs_path(studio.demo.experiment_id))
    page.wait_for_selector("#runs tbody tr[data-run]")
    box = page.get_by_label("filter runs")
    for text, named in (("loss<", "loss<"), (">0.5", ">0.5"), ("accuracy>high", "high"),
                        ("status:Bogus", "bogus"), ("tag:", "tag:")):  # fmt: skip
        box.fill(text)
        error = page.locator(".filter-error")
        error.first.wait_for()
        assert named.lower() in error.first.inner_text().lower()
        assert box.get_attribute("aria-invalid") == "true"
    box.fill("accuracy>0.9")
    page.locator(".filter-error").first.wait_for(state="detached")
    wait_rows(page, ["1", "2"], ordered=False)


def test_properties_and_tags_as_sortable_numeric_columns(page: Any, studio: Studio) -> None:
    open_page(page, runs_path(studio.demo.extras_experiment_id))
    page.wait_for_selector("#runs tbody tr[data-run]")
    page.locator("details.chooser summary").click()
    page.get_by_label("search columns").fill("epo")
    assert page.locator(".chooser-menu").get_by_label("property lr").count() == 0  # searched
    page.locator(".chooser-menu").get_by_label("property epochs").check()
    page.get_by_label("search columns").fill("arch")
    page.locator(".chooser-menu").get_by_label("tag arch").check()
    page.locator("details.chooser summary").click()
    page.locator('th[data-column="prop:epochs"] button.sort').click()  # descending
    page.locator('th[data-column="prop:epochs"] button.sort').click()  # ascending, numerically
    page.wait_for_function(
        """() => document.querySelector('#runs td[data-prop="epochs"]')?.textContent === '1'"""
    )
    cells = page.eval_on_selector_all(
        '#runs td[data-prop="epochs"]', "cells => cells.map(c => c.textContent)"
    )
    numbers = [int(c) for c in cells if c]
    assert numbers == sorted(numbers) and numbers[0] == 1  # numeric: 1, 2, …, not 1, 10, 11
    assert "prop:epochs" in page.evaluate("decodeURIComponent(location.hash)")
    page.get_by_label("filter runs").fill("prop:epochs>=10 tag:arch=resnet")
    wanted = [k for k in range(40) if k % 12 + 1 >= 10 and k % 2]
    page.wait_for_function(
        f"() => document.querySelector('#run-count')?.textContent.startsWith('{len(wanted)} of')"
    )
    page.wait_for_function(
        f"() => document.querySelectorAll('#runs td[data-tag=\"arch\"]').length === {len(wanted)}"
    )
    tags = page.eval_on_selector_all(
        '#runs td[data-tag="arch"]', "cells => cells.map(c => c.textContent)"
    )
    assert set(tags) == {"resnet"}


# ---- colours ----------------------------------------------------------------------------


def test_a_run_has_one_colour_in_the_table_and_every_chart(page: Any, studio: Studio) -> None:
    open_page(page, runs_path(studio.demo.experiment_id))
    page.wait_for_selector("#runs tbody tr[data-run]")
    chosen = studio.demo.sweep_ids[:4]
    table = {}
    for run_id in chosen:
        row = page.locator(f'#runs tr[data-run="{run_id}"]')
        row.locator("input[type=checkbox]").check()
        table[run_id] = row.locator(".swatch").get_attribute("data-color")
    assert len(set(table.values())) > 1
    page.locator("#compare").click()
    for metric in ("loss", "accuracy", "lr_schedule"):
        card = expect_chart(page, metric, "sweep-lr-0.3 (#1)")
        colours = json.loads(card.get_attribute("data-colors"))
        assert colours == table, metric
    listed = page.eval_on_selector_all(
        "#compare-runs li",
        "items => items.map(i => [i.dataset.run, i.querySelector('.swatch').dataset.color])",
    )
    assert dict(listed) == table


# ---- run page ---------------------------------------------------------------------------


def test_single_values_text_and_nan_are_shown_as_values(page: Any, studio: Studio) -> None:
    open_page(page, run_path(studio, studio.demo.kinds_id))
    summary = page.locator("#summary")
    summary.wait_for()
    assert summary.locator('tr[data-summary="final_score"] td.value').inner_text() == "0.93"
    assert summary.locator('tr[data-summary="nan_loss"] td.value').inner_text() == "NaN"
    assert page.locator('figure[data-metric="final_score"]').count() == 0  # no one-dot chart
    phase = page.locator('figure[data-metric="phase"][data-text-metric="true"]')
    phase.locator("table").wait_for()
    assert [t.strip() for t in phase.locator("tbody td:nth-child(2)").all_inner_texts()] == [
        "warmup", "train", "done",
    ]  # fmt: skip
    labels = page.locator('figure[data-metric="labels"] table')
    labels.wait_for()
    assert "bird" in labels.inner_text()
    expect_chart(page, "curve")
    assert "$float" not in page.locator("main").inner_text()
    open_page(page, runs_path(studio.demo.extras_experiment_id, "cols=metric:nan_loss&q=kinds"))
    cell = page.locator(f'#runs tr[data-run="{studio.demo.kinds_id}"] td[data-metric="nan_loss"]')
    page.wait_for_function("el => el.textContent === 'NaN'", arg=cell.element_handle())


def test_log_viewer_shows_colours_and_the_last_state_of_a_progress_bar(
    page: Any, studio: Studio
) -> None:
    open_page(page, run_path(studio, studio.demo.kinds_id, "logs"))
    log = page.locator("pre.log")
    page.wait_for_function(
        "() => document.querySelector('pre.log')?.textContent.includes('finished')"
    )
    text = log.inner_text()
    assert TQDM_FINAL in text
    assert "50/100" not in text and "\r" not in text  # the bar collapsed to its last state
    assert "\x1b" not in text and "[32m" not in text
    green = log.locator("span", has_text="green ok")
    assert green.evaluate("el => getComputedStyle(el).color") == "rgb(13, 188, 121)"
    assert log.locator("span.ansi-bold", has_text="starting").count() == 1
    page.get_by_label("search the log").fill("warning")
    page.wait_for_function(
        "() => document.querySelector('pre.log').textContent.trim() === 'green ok and red warning'"
    )


def test_traceback_is_formatted_and_fits_the_page(page: Any, studio: Studio) -> None:
    open_page(page, run_path(studio, studio.demo.crashed_id))
    trace = page.locator("#traceback")
    trace.wait_for()
    text = trace.inner_text()
    assert "Traceback (most recent call last)" in text and "_explode" in text
    assert "\\n" not in text  # real line breaks, not JSON-escaped ones
    assert text.count("\n") > 5
    assert "ValueError: the batch had no rows" in page.locator("#error-details").inner_text()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the window"


def test_environment_tab_is_a_searchable_package_table(page: Any, studio: Studio) -> None:
    open_page(page, run_path(studio, studio.demo.kinds_id, "environment"))
    table = page.locator("#package-table")
    table.wait_for()
    total = table.locator("tbody tr").count()
    assert total > 10
    assert table.locator('tr[data-package="runhistory"]').count() == 1
    page.get_by_label("search packages").fill("runhist")
    page.wait_for_function("() => document.querySelectorAll('#package-table tbody tr').length < 5")
    names = table.locator("tbody td:first-child").all_inner_texts()
    assert names and all("runhist" in n.lower() for n in names)
    assert '{"' not in page.locator("#environment").inner_text().split("Run definition")[0]


# ---- a killed script --------------------------------------------------------------------

KILLED_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from runhistory import Experiment, Workspace
    run = Experiment(Workspace(tracking_uri=sys.argv[1]), "killed-demo").start_logging(
        display_name="killed", outputs=False)
    run.log("loss", 0.5)
    run.flush()
    print(run.id, flush=True)
    sys.stdin.readline()
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_killed_interactive_run_does_not_stay_running(page: Any, studio: Studio) -> None:
    script = subprocess.Popen(
        [sys.executable, "-c", KILLED_SCRIPT, studio.url],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=dict(os.environ), text=True,
    )  # fmt: skip
    try:
        assert script.stdout is not None and script.stdin is not None
        run_id = script.stdout.readline().strip()
        run = httpx.get(f"{studio.url}/api/v1/runs/{run_id}").json()
        open_page(page, f"#/experiments/{run['experiment_id']}/runs/{run_id}")
        page.locator('.run-header [data-status="Running"]').wait_for()
        time.sleep(5)  # beats keep a live script Running past the 4 s timeout
        assert httpx.get(f"{studio.url}/api/v1/runs/{run_id}").json()["status"] == "Running"
        script.stdin.write("\n")
        script.stdin.flush()
        script.wait(timeout=10)
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()
    page.locator('.run-header [data-status="NotResponding"]').wait_for(timeout=15_000)


# ---- compare ----------------------------------------------------------------------------


def test_compare_300_runs_in_a_few_requests(
    page: Any, studio: Studio, record_property: Any
) -> None:
    studio.wait_for_bulk()
    experiment_id = find_experiment(studio, "sweep-300")
    found = httpx.get(
        f"{studio.url}/api/v1/runs",
        params={"experiment_id": experiment_id, "limit": 1000, "with_definition": False},
    ).json()["items"]
    run_ids = [run["run_id"] for run in found]
    assert len(run_ids) == SWEEP_RUNS
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/v1/" in r.url else None)
    open_page(page, f"#/experiments/{experiment_id}/compare?runs={','.join(run_ids)}")
    first_chart_ms = mark(page, "runhistory:first-chart")
    expect_chart(page, "loss", f"{SWEEP_RUNS} series")
    expect_chart(page, "accuracy", f"{SWEEP_RUNS} series")
    all_charts_ms = page.evaluate("performance.now()")
    page.wait_for_load_state("networkidle")
    assert len(requests) <= 8, requests  # not one request per run
    assert page.locator("#compare-runs li").count() == SWEEP_RUNS
    differs = page.locator("#diff tbody th").all_inner_texts()
    assert "property: lr" in differs and "status" not in differs  # equal rows hidden
    assert "hidden" in page.locator("#diff-hidden").inner_text()
    page.get_by_label("only differences").uncheck()
    page.locator("#diff tbody th", has_text="status").wait_for()
    record_property("compare_300_first_chart_ms", first_chart_ms)
    print(
        f"\ncompare of {SWEEP_RUNS} runs: first chart after {first_chart_ms:.0f} ms, "
        f"both charts by {all_charts_ms:.0f} ms, {len(requests)} API requests"
    )


def test_experiment_charts_of_300_runs_without_ticking(
    page: Any, studio: Studio, record_property: Any
) -> None:
    studio.wait_for_bulk()
    experiment_id = find_experiment(studio, "sweep-300")
    open_page(page, runs_path(experiment_id, "charts=1"))
    first_chart_ms = mark(page, "runhistory:first-chart")
    card = expect_chart(page, "loss", f"{SWEEP_RUNS} series")
    assert len(json.loads(card.get_attribute("data-colors"))) == SWEEP_RUNS
    expect_chart(page, "accuracy", f"{SWEEP_RUNS} series")
    page.get_by_label("search charts").fill("acc")
    page.locator('#experiment-charts figure[data-metric="loss"]').wait_for(state="detached")
    assert page.locator('#experiment-charts figure[data-metric="accuracy"]').count() == 1
    page.get_by_label("filter runs").fill("prop:lr>0.05")  # the charts follow the table
    page.wait_for_function(
        "() => Object.keys(JSON.parse(document.querySelector("
        "'#experiment-charts figure[data-metric=accuracy]')?.dataset.colors || '{}')).length"
        f" < {SWEEP_RUNS}"
    )
    record_property("experiment_300_first_chart_ms", first_chart_ms)
    print(f"\nexperiment of {SWEEP_RUNS} runs: first chart after {first_chart_ms:.0f} ms")


def test_display_name_and_description_are_editable(page: Any, studio: Studio) -> None:
    run_id = studio.demo.wide_ids[-1]
    open_page(page, run_path(studio, run_id))
    page.get_by_role("button", name="edit name and description").click()
    page.get_by_label("display name").fill("renamed-trial")
    page.get_by_label("description", exact=True).fill("tried a wider net")
    page.get_by_role("button", name="Save").click()
    page.locator("#run-description", has_text="tried a wider net").wait_for()
    page.locator(".run-header h1", has_text="renamed-trial").wait_for()
    stored = httpx.get(f"{studio.url}/api/v1/runs/{run_id}").json()
    assert (stored["display_name"], stored["description"]) == ("renamed-trial", "tried a wider net")
