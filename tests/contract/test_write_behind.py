"""Runs created and changed without waiting for the store behave as if every call waited.

The embedded backends write new runs behind (their creation, tags, properties and status go
through the write queue); the server backend writes them one call at a time. The same
assertions hold for both.
"""

from __future__ import annotations

import pytest

from runhistory import Experiment, Run, Workspace
from runhistory.errors import InvalidTransitionError, PropertyImmutableError


def test_a_new_run_is_readable_at_once(workspace: Workspace, experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False, display_name="first")
    again = Run.get(workspace, run.id)
    assert again.get_status() == "Running"
    assert again.display_name == "first"
    assert run.number == again.number == 1
    assert [r.id for r in Run.list(experiment)] == [run.id]


def test_tag_and_property_changes_apply_in_order(experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    run.set_tags({"a": "1", "b": "1"})
    run.remove_tags(["a"])
    run.tag("a", "2")
    run.remove_tags("b")
    run.tag("flag")
    run.add_properties({"p": "1"})
    run.add_properties({"p": "1", "q": "2"})  # the same value again is allowed
    run.complete()
    stored = Run(experiment, run.id)
    assert stored.get_tags() == {"a": "2", "flag": None}
    assert stored.get_properties() == {"p": "1", "q": "2"}


def test_a_property_changing_its_value_is_refused_at_once(experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    run.add_properties({"seed": "1"})
    with pytest.raises(PropertyImmutableError, match="'seed'"):
        run.add_properties({"seed": "2"})
    run.complete()
    assert Run(experiment, run.id).get_properties() == {"seed": "1"}


def test_a_property_another_object_set_first_wins(experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    Run(experiment, run.id).add_properties({"owner": "other"})
    # The run itself does not know the other value: the error comes from add_properties or,
    # when the change was written behind, from the flush that stores it.
    with pytest.raises(PropertyImmutableError, match="'owner'"):
        run.add_properties({"owner": "me"})
        run.flush()
    run.complete()
    assert Run(experiment, run.id).get_properties() == {"owner": "other"}
    assert run.get_status() == "Completed"


def test_completing_a_run_canceled_elsewhere_is_refused(experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    run.log("before", 1)
    Run(experiment, run.id).cancel()
    with pytest.raises(InvalidTransitionError, match="Canceled"):
        run.complete()
    assert run.get_status() == "Canceled"
    assert run.get_metrics() == {"before": 1}


def test_children_of_a_new_parent(workspace: Workspace, experiment: Experiment) -> None:
    parent = experiment.start_logging(outputs=False)
    child = parent.child_run("child")
    grandchild = child.child_run("grandchild")
    grandchild.log("depth", 2)
    for run in (grandchild, child, parent):
        run.complete()
    assert [r.id for r in parent.get_children()] == [child.id]
    assert {r.id for r in parent.get_children(recursive=True)} == {child.id, grandchild.id}
    stored = Run.get(workspace, grandchild.id)
    assert stored.parent is not None and stored.parent.id == child.id
    assert stored._info.root_run_id == parent.id
    assert stored.get_status() == "Completed"
    assert parent.get_metrics(recursive=True)[grandchild.id] == {"depth": 2}


def test_listed_runs_read_their_environment_when_asked(experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    run.complete()
    [listed] = Run.list(experiment)
    assert listed.get_environment()["python"]["version"]
    assert "environment" in listed.get_details()["runDefinition"]


def test_many_short_runs_keep_their_numbers_and_states(experiment: Experiment) -> None:
    for i in range(30):
        run = experiment.start_logging(outputs=False)
        run.add_properties({"i": str(i)})
        run.set_tags({"parity": "odd" if i % 2 else "even"})
        run.log("value", i)
        run.fail() if i % 3 == 0 else run.complete()
    runs = list(Run.list(experiment))
    assert [r.number for r in runs] == list(range(30, 0, -1))
    assert len(list(experiment.get_runs(tags={"parity": "odd"}, properties={"i": "7"}))) == 1
    assert len(list(Run.list(experiment, status="Failed"))) == 10
    assert {r.get_metrics()["value"] for r in runs} == set(range(30))


def test_children_of_a_stored_parent(workspace: Workspace, experiment: Experiment) -> None:
    started = experiment.start_logging(outputs=False)
    started.flush()
    parent = Run.get(workspace, started.id)  # a run read back, as in a submitted script
    sweep = parent.create_children(tag_key="lr", tag_values=["0.1", "0.01"])
    with sweep[0] as child:
        child.log("loss", 0.5)
    nested = sweep[1].child_run("nested")
    nested.complete()
    assert [c.get_status() for c in sweep] == ["Completed", "NotStarted"]
    assert {c.get_tags()["lr"] for c in sweep} == {"0.1", "0.01"}
    assert {r.id for r in parent.get_children(recursive=True)} == {
        *(c.id for c in sweep),
        nested.id,
    }
    assert Run.get(workspace, nested.id)._info.root_run_id == parent.id
    assert sweep[0].get_metrics() == {"loss": 0.5}
