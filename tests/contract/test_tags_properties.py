"""SPEC §4: mutable tags, add-only properties."""

from __future__ import annotations

import pytest

from runhistory import Experiment, Run
from runhistory.errors import PropertyImmutableError, ValidationError


@pytest.fixture
def run(experiment: Experiment) -> Run:
    return experiment.start_logging(outputs=False)


def test_spec_tag_example_verbatim(run: Run) -> None:
    run.tag("DeploymentCandidate")
    run.tag("modifiedBy", "Master CI")
    run.tag("modifiedBy", "release pipeline")
    assert run.get_tags() == {"DeploymentCandidate": None, "modifiedBy": "release pipeline"}


def test_set_tags_dict_and_string_and_remove(run: Run) -> None:
    run.set_tags({"a": "1", "b": "2"})
    run.set_tags("flag")
    assert run.get_tags() == {"a": "1", "b": "2", "flag": None}
    run.remove_tags(["a", "missing"])
    assert run.tags == {"b": "2", "flag": None}


def test_tag_values_must_be_strings(run: Run) -> None:
    run.tag("number", 3)  # type: ignore[arg-type]
    assert run.get_tags()["number"] == "3"
    with pytest.raises(ValidationError, match="values must be strings"):
        run.set_tags({"bad": ["list"]})  # type: ignore[dict-item]


def test_properties_are_add_only(run: Run) -> None:
    run.add_properties({"author": "azureml-user", "seed": "7"})
    run.add_properties({"author": "azureml-user"})  # same value: no-op
    with pytest.raises(PropertyImmutableError, match="'author'"):
        run.add_properties({"author": "someone-else"})
    assert run.get_properties() == {"author": "azureml-user", "seed": "7"}
    assert run.properties == run.get_properties()


def test_properties_and_tags_visible_from_another_run_object(run: Run) -> None:
    run.add_properties({"k": "v"})
    run.tag("t", "u")
    again = Run(run.experiment, run.id)
    assert again.get_properties() == {"k": "v"}
    assert again.get_tags() == {"t": "u"}


def test_experiment_tags(experiment: Experiment) -> None:
    experiment.tag("team", "vision")
    experiment.set_tags({"flag": None})
    assert experiment.tags == {"team": "vision", "flag": None}
    experiment.remove_tags(["flag"])
    assert experiment.tags == {"team": "vision"}
