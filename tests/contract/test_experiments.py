"""SPEC §1 and §9: names, get-or-create, archive, reactivate, delete, list."""

from __future__ import annotations

import pytest

from runhistory import Experiment, Workspace
from runhistory.errors import ExperimentArchivedError, InvalidNameError, NotFoundError

RULE = "3-36 characters long, start with a letter or digit"


@pytest.mark.parametrize("name", ["abc", "A1_b-c", "0starts-with-digit", "x" * 36])
def test_valid_names(workspace: Workspace, name: str) -> None:
    assert Experiment(workspace, name).name == name


@pytest.mark.parametrize(
    "name",
    ["ab", "x" * 37, "_leading", "-leading", "has space", "dot.name", "slash/name", "", "ünicode"],
)
def test_invalid_names_state_the_rule(workspace: Workspace, name: str) -> None:
    with pytest.raises(InvalidNameError, match=RULE):
        Experiment(workspace, name)
    with pytest.raises(ValueError):  # the error is a ValueError too
        Experiment(workspace, name)


def test_get_or_create_returns_the_same_experiment(workspace: Workspace) -> None:
    first = Experiment(workspace, "same-name")
    second = Experiment(workspace, "same-name")
    assert first.id == second.id and first == second


def test_list_and_view_types(workspace: Workspace) -> None:
    Experiment(workspace, "alpha")
    beta = Experiment(workspace, "beta")
    beta.archive()
    assert beta.archived_time is not None
    names = lambda view: sorted(e.name for e in Experiment.list(workspace, view_type=view))  # noqa: E731
    assert names("ActiveOnly") == ["alpha"]
    assert names("ArchivedOnly") == ["beta"]
    assert names("All") == ["alpha", "beta"]
    assert [e.name for e in Experiment.list(workspace, experiment_name="alpha")] == ["alpha"]
    with pytest.raises(ValueError, match="view_type"):
        Experiment.list(workspace, view_type="Everything")


def test_list_by_tags(workspace: Workspace) -> None:
    Experiment(workspace, "tagged").tag("team", "nlp")
    Experiment(workspace, "untagged")
    assert [e.name for e in Experiment.list(workspace, tags="team")] == ["tagged"]
    assert [e.name for e in Experiment.list(workspace, tags={"team": "nlp"})] == ["tagged"]
    assert Experiment.list(workspace, tags={"team": "cv"}) == []


def test_writing_to_an_archived_name_makes_a_new_active_experiment(workspace: Workspace) -> None:
    old = Experiment(workspace, "reused")
    old.start_logging(outputs=False).complete()
    old.archive()
    new = Experiment(workspace, "reused")
    assert new.id != old.id and new.archived_time is None
    assert list(new.get_runs()) == []


def test_reactivate_needs_a_free_name(workspace: Workspace) -> None:
    old = Experiment(workspace, "clash")
    old.archive()
    Experiment(workspace, "clash")  # a new active one takes the name
    with pytest.raises(ExperimentArchivedError, match="already has that name"):
        old.reactivate()
    old.reactivate(new_name="clash-restored")
    assert old.name == "clash-restored" and old.archived_time is None
    old.refresh()
    assert old.name == "clash-restored"


def test_delete_removes_the_experiment_and_its_runs(workspace: Workspace) -> None:
    from runhistory import Run

    experiment = Experiment(workspace, "doomed")
    run = experiment.start_logging(outputs=False)
    run.log("x", 1)
    run.complete()
    Experiment.delete(workspace, experiment.id)
    assert [e.name for e in Experiment.list(workspace, view_type="All")] == []
    with pytest.raises(NotFoundError):
        Run.get(workspace, run.id)


def test_workspace_experiments_property(workspace: Workspace) -> None:
    Experiment(workspace, "one-exp")
    assert list(workspace.experiments) == ["one-exp"]
