"""The runs table reads a 20,000-run experiment through the server's cursor.

Scrolled to the end and back a screen at a time, every screen is filled with rows once its
pages arrive (no blank screen), every run appears at exactly one position, and the table only
ever asks for pages: no request asks for every run, every page after the first continues with
a keyset token (a position, not an offset). The time to first rows and the first page's
request time and bytes on the wire are measured in the browser and printed.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from helpers import Studio, open_page
from studio_data import MANY_RUNS
from test_studio_scale import find_experiment, mark

# Scroll one screen at a time (down, then up); at every stop wait until no placeholder row is
# on screen, then record index -> run number of the rows on screen.
SCROLL = """async ([direction, limitMs]) => {
  const el = document.querySelector('.runs-scroll');
  const head = el.querySelector('thead').getBoundingClientRect().height;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const onScreen = () => {
    const box = el.getBoundingClientRect();
    return [...el.querySelectorAll('tbody tr[data-index]')].filter((tr) => {
      const b = tr.getBoundingClientRect();
      return b.bottom > box.top + head + 1 && b.top < box.bottom - 1;
    });
  };
  const seen = {};
  let stops = 0, waits = 0, blank = 0, short = 0;
  const started = performance.now();
  const step = Math.max(40, el.clientHeight - head - 40);
  while (performance.now() - started < limitMs) {
    await frame();
    let rows = onScreen();
    const pending = () => !rows.length || rows.some((r) => r.classList.contains('placeholder'));
    for (let i = 0; i < 500 && pending(); i++) {
      waits++;
      await sleep(20);
      await frame();
      rows = onScreen();
    }
    const loaded = rows.filter((r) => r.dataset.run);
    if (!loaded.length || loaded.length < rows.length) blank++;
    const height = loaded.length ? loaded[0].getBoundingClientRect().height : 1;
    const room = Math.floor((el.clientHeight - head) / height) - 1;
    const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - 1;
    if (loaded.length < room && !atEnd && el.scrollTop > 0) short++;
    for (const row of loaded) {
      const index = row.dataset.index;
      if (seen[index] !== undefined && seen[index] !== row.dataset.number) {
        throw new Error(`row ${index} showed run ${seen[index]} and then ${row.dataset.number}`);
      }
      seen[index] = row.dataset.number;
    }
    stops++;
    if (direction > 0 ? atEnd : el.scrollTop <= 0) break;
    el.scrollTop += direction * step;
  }
  return { seen, stops, waits, blank, short, done: direction > 0
    ? el.scrollTop + el.clientHeight >= el.scrollHeight - 1 : el.scrollTop <= 0 };
}"""


def listing_requests(requests: list[Any]) -> list[dict[str, list[str]]]:
    return [
        parse_qs(urlparse(r.url).query)
        for r in requests
        if urlparse(r.url).path.endswith("/api/v1/runs")
    ]


def is_keyset_token(token: str) -> bool:
    """A token holds a position (created time, number, run id), not a count of rows."""
    body = token.split(".")[0]
    position = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return len(position) == 4 and isinstance(position[2], int) and isinstance(position[3], str)


# 852 screens (426 each way at 2000 px) are drawn one after the other: about two minutes on
# a quiet 2-core machine, four at load 17-20 (2026-12-04: 237 s, 58-132 s a way). The scroll
# loop bounds each way to 240 s; the test's limit leaves room for both and the bulk writer.
# A taller screen is not cheaper (4000 px: 196 screens a way, but 76-87 s against 58 s).
@pytest.mark.timeout(600)
def test_a_20000_run_table_scrolls_to_the_end_and_back(
    page: Any, studio: Studio, record_property: Any
) -> None:
    studio.wait_for_bulk()
    experiment_id = find_experiment(studio, "many-runs")
    page.set_viewport_size({"width": 1440, "height": 2000})
    requests: list[Any] = []
    page.on("request", lambda r: requests.append(r) if "/api/v1/" in r.url else None)
    open_page(page, f"#/experiments/{experiment_id}")
    first_rows_ms = mark(page, "runhistory:runs-table")
    page.wait_for_function(
        f"() => document.querySelector('#run-count')?.textContent === "
        f"'{MANY_RUNS} of {MANY_RUNS} runs'"
    )
    first = next(r for r in requests if urlparse(r.url).path.endswith("/api/v1/runs"))
    first.response().finished()
    sizes = first.sizes()
    timing = first.timing
    first_ms = timing["responseEnd"] - timing["requestStart"]
    first_bytes = sizes["responseBodySize"] + sizes["responseHeadersSize"]

    down = page.evaluate(SCROLL, [1, 240_000])
    assert down["done"], f"did not reach the end: {down['stops']} stops"
    up = page.evaluate(SCROLL, [-1, 240_000])
    assert up["done"], f"did not come back to the top: {up['stops']} stops"

    for trip in (down, up):
        assert trip["blank"] == 0, f"{trip['blank']} screens had rows that never loaded"
        assert trip["short"] == 0, f"{trip['short']} screens were not filled with rows"
    assert down["seen"] == up["seen"], "a row showed another run on the way back"
    positions = down["seen"]
    assert sorted(map(int, positions)) == list(range(MANY_RUNS)), "a position was never shown"
    numbers = [int(positions[str(i)]) for i in range(MANY_RUNS)]
    assert numbers == list(range(MANY_RUNS, 0, -1)), "runs out of order, missing or repeated"

    listings = listing_requests(requests)
    assert listings, "the table made no listing request"
    for query in listings:
        assert int(query["limit"][0]) <= 500, f"a request asked for {query['limit']} runs"
        assert "offset" not in query
    tokens = [q["page_token"][0] for q in listings if "page_token" in q]
    assert len(tokens) >= MANY_RUNS // 500 - 1
    assert all(is_keyset_token(t) for t in tokens)
    assert len(set(tokens)) == len(tokens), "a page was fetched twice"
    lasts = [r for r in requests if urlparse(r.url).path.endswith("/metrics/last")]
    assert all(len(json.loads(r.post_data)["run_ids"]) <= 500 for r in lasts)

    record_property("first_rows_ms_cursor", first_rows_ms)
    record_property("first_page_ms", first_ms)
    record_property("first_page_bytes", first_bytes)
    print(
        f"\n{MANY_RUNS}-run table over the cursor: first rows after {first_rows_ms:.0f} ms; "
        f"first page {first_ms:.0f} ms, {first_bytes} bytes on the wire "
        f"({sizes['responseBodySize']} body); scrolled down in {down['stops']} screens "
        f"({down['waits']} waits for pages), up in {up['stops']}; {len(listings)} page requests"
    )
