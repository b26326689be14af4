"""SPEC §5: children, parents, listing and filtering runs."""

from __future__ import annotations

import pytest

from runhistory import Experiment, Run, Workspace
from runhistory.errors import NotFoundError, ValidationError


def test_child_run_has_parent_and_display_name(experiment: Experiment) -> None:
    parent = experiment.start_logging(outputs=False)
    child = parent.child_run(name="fold-1")
    assert child.parent == parent
    assert child.display_name == "fold-1"
    assert child.get_status() == "Running"
    assert parent.parent is None


def test_create_children_by_count_and_by_tag_values(experiment: Experiment) -> None:
    parent = experiment.start_logging(outputs=False)
    counted = parent.create_children(count=3)
    assert len(counted) == 3 and all(c.get_status() == "NotStarted" for c in counted)
    tagged = parent.create_children(tag_key="lr", tag_values=["0.1", "0.01"])
    assert sorted(c.get_tags()["lr"] for c in tagged) == ["0.01", "0.1"]
    assert len(list(parent.get_children())) == 5


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"count": 2, "tag_key": "k", "tag_values": ["a"]}, {"count": 0}, {"tag_key": "k"}],
)
def test_create_children_needs_exactly_one_form(experiment: Experiment, kwargs: dict) -> None:  # type: ignore[type-arg]
    parent = experiment.start_logging(outputs=False)
    with pytest.raises(ValidationError):
        parent.create_children(**kwargs)


def test_get_children_recursive_and_filters(experiment: Experiment) -> None:
    root = experiment.start_logging(outputs=False)
    a = root.child_run("a")
    b = root.child_run("b")
    a1 = a.child_run("a1")
    a1.tag("deep", "yes")
    b.add_properties({"kind": "b"})
    b.complete()
    assert {c.id for c in root.get_children()} == {a.id, b.id}
    assert {c.id for c in root.get_children(recursive=True)} == {a.id, b.id, a1.id}
    assert {c.id for c in a.get_children(recursive=True)} == {a1.id}
    assert [c.id for c in root.get_children(recursive=True, tags="deep")] == [a1.id]
    assert [c.id for c in root.get_children(properties={"kind": "b"})] == [b.id]
    assert [c.id for c in root.get_children(status="Completed")] == [b.id]


def test_run_get_and_constructor(workspace: Workspace, experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    assert Run.get(workspace, run.id) == run
    assert Run(experiment, run.id).number == run.number
    assert workspace.get_run(run.id).experiment.name == experiment.name
    with pytest.raises(NotFoundError, match="no-such-run"):
        Run.get(workspace, "no-such-run")


def test_listing_is_newest_first_and_skips_children_by_default(experiment: Experiment) -> None:
    runs = [experiment.start_logging(outputs=False) for _ in range(3)]
    child = runs[0].child_run()
    listed = experiment.get_runs()
    assert [r.id for r in listed] == [r.id for r in reversed(runs)]
    with_children = list(Run.list(experiment, include_children=True))
    assert child.id in {r.id for r in with_children} and len(with_children) == 4


def test_list_filters_tags_properties_status(experiment: Experiment) -> None:
    tagged = experiment.start_logging(outputs=False)
    tagged.tag("worth another look")
    tagged.add_properties({"author": "azureml-user"})
    tagged.complete()
    other = experiment.start_logging(outputs=False)
    other.tag("worth another look", "maybe")
    ids = lambda runs: [r.id for r in runs]  # noqa: E731
    assert ids(experiment.get_runs(tags="worth another look")) == [other.id, tagged.id]
    assert ids(experiment.get_runs(tags={"worth another look": "maybe"})) == [other.id]
    assert ids(experiment.get_runs(properties={"author": "azureml-user"})) == [tagged.id]
    assert ids(Run.list(experiment, status="Completed")) == [tagged.id]
    assert ids(Run.list(experiment, status="Running")) == [other.id]
    assert ids(experiment.get_runs(type="experimentrun")) == [other.id, tagged.id]
    assert list(experiment.get_runs(type="azureml.scriptrun")) == []
    with pytest.raises(ValueError, match="unknown run status"):
        Run.list(experiment, status="Sleeping")


def test_run_ids_can_be_chosen_for_children(experiment: Experiment) -> None:
    parent = experiment.start_logging(outputs=False)
    child = parent.child_run(run_id="my-own-child-id")
    assert child.id == "my-own-child-id"
