"""SPEC §2: statuses, transitions, `with run:`, details."""

from __future__ import annotations

import pytest

from runhistory import Experiment, Run, Workspace
from runhistory.errors import InvalidTransitionError, ValidationError


def test_start_logging_gives_a_running_run_with_number(experiment: Experiment) -> None:
    first = experiment.start_logging(outputs=False)
    second = experiment.start_logging(outputs=False, display_name="second")
    assert first.get_status() == "Running"
    assert (first.number, second.number) == (1, 2)
    assert second.display_name == "second"
    assert first.id.startswith(experiment.name + "_")


def test_complete_fail_cancel_are_terminal(experiment: Experiment) -> None:
    done = experiment.start_logging(outputs=False)
    done.complete()
    assert done.get_status() == "Completed"
    failed = experiment.start_logging(outputs=False)
    failed.fail(error_details="diverged", error_code="UserError")
    assert failed.get_status() == "Failed"
    assert failed.get_details()["error"]["message"] == "diverged"
    canceled = experiment.start_logging(outputs=False)
    canceled.cancel()
    assert canceled.get_status() == "Canceled"
    for run in (done, failed, canceled):
        with pytest.raises(InvalidTransitionError, match="already"):
            run.complete()
        with pytest.raises(InvalidTransitionError, match="already"):
            run.fail()
        with pytest.raises(InvalidTransitionError, match="already"):
            run.start()
        with pytest.raises(InvalidTransitionError):
            run.cancel()


def test_with_block_completes_on_normal_exit(experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    with run:
        run.log("x", 1)
    assert run.get_status() == "Completed"
    assert run.get_metrics() == {"x": 1}


def test_with_block_fails_and_propagates_the_exception(experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    with pytest.raises(ZeroDivisionError), run:
        run.log("before", 1)
        _ = 1 / 0
    assert run.get_status() == "Failed"
    error = run.get_details()["error"]
    assert "ZeroDivisionError" in error["message"]
    assert "Traceback" in error["traceback"]
    assert run.get_metrics() == {"before": 1}


def test_with_block_starts_a_not_started_child(experiment: Experiment) -> None:
    parent = experiment.start_logging(outputs=False)
    child = parent.create_children(count=1)[0]
    assert child.get_status() == "NotStarted"
    with child:
        assert child.get_status() == "Running"
    assert child.get_status() == "Completed"


def test_details_keys_and_end_time_absent_while_running(experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    details = run.get_details()
    for key in (
        "runId",
        "target",
        "status",
        "startTimeUtc",
        "properties",
        "inputDatasets",
        "outputDatasets",
        "runDefinition",
        "logFiles",
        "submittedBy",
    ):
        assert key in details
    assert "endTimeUtc" not in details
    assert details["runId"] == run.id and details["status"] == "Running"
    run.complete()
    finished = run.get_details()
    assert finished["endTimeUtc"] >= finished["startTimeUtc"]
    assert finished["startTimeUtc"].endswith("Z")


def test_detailed_status(experiment: Experiment) -> None:
    parent = experiment.start_logging(outputs=False)
    child = parent.create_children(count=1)[0]
    assert child.get_detailed_status() == {
        "status": "NotStarted",
        "details": "the run has not been started",
    }
    parent.fail(error_details="boom")
    assert parent.get_detailed_status() == {"status": "Failed", "details": "boom"}


def test_wait_for_completion_returns_details_and_raises_on_failure(experiment: Experiment) -> None:
    from runhistory.errors import ActivityFailedException

    run = experiment.start_logging(outputs=False)
    run.complete()
    assert run.wait_for_completion()["status"] == "Completed"
    bad = experiment.start_logging(outputs=False)
    bad.fail(error_details="broken input")
    with pytest.raises(ActivityFailedException, match="broken input"):
        bad.wait_for_completion()
    assert bad.wait_for_completion(raise_on_error=False)["status"] == "Failed"


def test_display_name_and_description_are_settable(experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    run.display_name = "baseline"
    run.description = "first try"
    again = Run(experiment, run.id)
    assert (again.display_name, again.description) == ("baseline", "first try")
    assert again.type == "experimentrun"


def test_environment_is_recorded(experiment: Experiment) -> None:
    import platform

    run = experiment.start_logging(outputs=False)
    environment = run.get_environment()
    assert environment["python"]["version"] == platform.python_version()
    assert "runhistory" in environment["python"]["packages"]


def test_portal_url_names_the_run(experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    assert run.get_portal_url().endswith(f"/runs/{run.id}")
    assert run.portal_url == run.get_portal_url()


def test_a_status_change_can_require_the_current_status(
    workspace: Workspace, experiment: Experiment
) -> None:
    """What a job's supervisor relies on: moving on never overwrites a pending cancel."""
    run = experiment.start_logging(outputs=False)
    backend = workspace._connection.backend
    backend.set_status(run.id, "CancelRequested")
    with pytest.raises(InvalidTransitionError, match="CancelRequested"):
        backend.set_status(run.id, "Running", expected=["Queued", "Preparing", "Running"])
    assert run.get_status() == "CancelRequested"
    backend.set_status(run.id, "Canceled", expected=["CancelRequested"])
    assert run.get_status() == "Canceled"


def test_an_unknown_expected_status_is_refused_and_changes_nothing(
    workspace: Workspace, experiment: Experiment
) -> None:
    run = experiment.start_logging(outputs=False)
    backend = workspace._connection.backend
    with pytest.raises(ValidationError, match="'Bogus'"):
        backend.set_status(run.id, "Completed", expected=["Running", "Bogus"])
    assert run.get_status() == "Running"
