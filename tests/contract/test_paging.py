"""Run listings are keyset-paged and lazy on every backend (embedded SQLite, PostgreSQL, server).

Pages continue with a token: runs created while a listing is read never make a run of the
pages still to come skipped or repeated; a token that was altered, or that belongs to a
listing with other filters, is refused with a clear error; ``Run.list``, ``get_runs`` and
``get_children`` are generators.
"""

from __future__ import annotations

import types

import pytest

from runhistory import Experiment, Run
from runhistory.errors import ValidationError
from runhistory.tracking.entities import RunsPage


def _make_runs(experiment: Experiment, count: int, **tags: str) -> list[str]:
    made = []
    for _ in range(count):
        run = experiment.start_logging(snapshot_directory=None)
        if tags:
            run.set_tags(tags)
        run.complete()
        made.append(run.id)
    return made


def test_pages_neither_skip_nor_repeat_runs_while_runs_are_added(experiment: Experiment) -> None:
    backend = experiment.workspace._connection.backend
    before = _make_runs(experiment, 23)
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = backend.search_runs_page(
            experiment_id=experiment.id, page_size=5, page_token=token, with_definition=False
        )
        seen.extend(r.run_id for r in page.items)
        pages += 1
        _make_runs(experiment, 2)  # newer runs arrive between every two pages
        token = page.next_page_token
        if token is None:
            break
    assert seen == list(reversed(before))  # every run once, newest first
    assert pages == 5
    assert backend.count_matching_runs(experiment_id=experiment.id) == 23 + 2 * pages


def test_a_listing_is_a_generator_that_starts_with_the_newest_run(experiment: Experiment) -> None:
    made = _make_runs(experiment, 3)
    listed = experiment.get_runs()
    assert isinstance(listed, types.GeneratorType)
    assert next(listed).id == made[-1]
    assert [r.id for r in listed] == [made[1], made[0]]
    assert [r.id for r in Run.list(experiment, status="Completed")] == list(reversed(made))
    assert list(Run.list(experiment, status="Failed")) == []


def test_children_are_paged_newest_first(experiment: Experiment) -> None:
    parent = experiment.start_logging(snapshot_directory=None)
    children = parent.create_children(count=60)  # more than the first page of 50
    grandchild = children[0].child_run()
    listed = parent.get_children()
    assert isinstance(listed, types.GeneratorType)
    assert [c.id for c in listed] == [c.id for c in reversed(children)]
    below = {c.id for c in parent.get_children(recursive=True)}
    assert below == {c.id for c in children} | {grandchild.id}
    assert [c.id for c in children[0].get_children(recursive=True)] == [grandchild.id]


def test_filtered_pages_and_their_count(experiment: Experiment) -> None:
    backend = experiment.workspace._connection.backend
    odd = _make_runs(experiment, 7, parity="odd")
    _make_runs(experiment, 6, parity="even")
    first = backend.search_runs_page(experiment_id=experiment.id, tags={"parity": "odd"},
                                     page_size=4)  # fmt: skip
    second = backend.search_runs_page(
        experiment_id=experiment.id, tags={"parity": "odd"}, page_size=4,
        page_token=first.next_page_token,
    )  # fmt: skip
    assert isinstance(first, RunsPage)
    assert [r.run_id for r in first.items + second.items] == list(reversed(odd))
    assert second.next_page_token is None
    counted = backend.count_matching_runs(experiment_id=experiment.id, tags={"parity": "odd"})
    assert counted == 7


def test_an_altered_or_foreign_token_is_refused(experiment: Experiment) -> None:
    backend = experiment.workspace._connection.backend
    _make_runs(experiment, 3, parity="odd")
    first = backend.search_runs_page(experiment_id=experiment.id, page_size=1)
    token = first.next_page_token
    assert token is not None
    body, digest = token.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + digest
    for bad in (forged, "garbage", token + "x", ""):
        with pytest.raises(ValidationError, match="invalid page_token"):
            backend.search_runs_page(experiment_id=experiment.id, page_size=1, page_token=bad)
    with pytest.raises(ValidationError, match="other filters"):  # a token of another listing
        backend.search_runs_page(
            experiment_id=experiment.id, tags={"parity": "odd"}, page_size=1, page_token=token
        )


def test_metric_names_are_paged_and_searchable(experiment: Experiment) -> None:
    run = experiment.start_logging(snapshot_directory=None)
    wanted = [f"m{i:04d}" for i in range(1050)]  # more than the 1,000 names of a chart request
    for i, name in enumerate(wanted):
        run.log(name, i)
    run.flush()
    backend = experiment.workspace._connection.backend
    names: list[str] = []
    token: str | None = None
    while True:
        page = backend.get_metric_infos_page(run.id, page_size=500, page_token=token)
        assert len(page.items) <= 500
        names += [m.name for m in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert names == wanted
    found = backend.get_metric_infos_page(run.id, page_size=5, search="M104")
    assert [m.name for m in found.items] == [f"m104{i}" for i in range(5)]
    rest = backend.get_metric_infos_page(
        run.id, page_size=5, search="M104", page_token=found.next_page_token
    )
    assert [m.name for m in rest.items] == [f"m104{i}" for i in range(5, 10)]
    assert rest.next_page_token is None
    with pytest.raises(ValidationError, match="invalid page_token"):  # a token of another search
        backend.get_metric_infos_page(run.id, search="m1", page_token=found.next_page_token)


def test_the_summary_counts_keys_and_metric_names(experiment: Experiment) -> None:
    first = experiment.start_logging(snapshot_directory=None)
    first.set_tags({"x": "1", "y": None})
    first.add_properties({"p": "1"})
    first.log("loss", 1)
    first.complete()
    second = experiment.start_logging(snapshot_directory=None)
    second.set_tags({"x": "2"})
    second.log("loss", 2)
    second.log("acc", 1)
    second.child_run().complete()
    second.complete()
    found = experiment.workspace._connection.backend.summarize_experiment(experiment.id)
    assert found.experiment_id == experiment.id and found.runs == 3
    tags = {k.key: k.runs for k in found.tags}
    assert tags["x"] == 2 and tags["y"] == 1
    assert {k.key: k.runs for k in found.properties}["p"] == 1
    assert [(k.key, k.runs) for k in found.metrics] == [("acc", 1), ("loss", 2)]
