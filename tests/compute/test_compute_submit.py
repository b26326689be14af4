"""Submitting real scripts to the local target: context, alias, children, outputs, failures."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from runhistory import Experiment, Model, Run, ScriptRunConfig
from runhistory.errors import ActivityFailedException, InvalidTransitionError, ValidationError
from runhistory.tracking import status as st

METRICS_SCRIPT = """
    import sys
    from runhistory import Run

    run = Run.get_context()
    for epoch in range(5):
        run.log("loss", 1.0 / (epoch + 1), step=epoch)
    run.log("args", " ".join(sys.argv[1:]))
    print("trained", flush=True)
"""

AZUREML_SCRIPT = """
    from azureml.core import Run
    from azureml.core.run import Run as SameRun

    run = Run.get_context()
    assert SameRun is Run
    run.log("accuracy", 0.93)
    run.tag("framework", "none")
    print("id", run.id)
"""


def test_script_logs_metrics_through_get_context(
    exp: Experiment, source: Callable[..., Path]
) -> None:
    folder = source({"train.py": METRICS_SCRIPT})
    run = exp.submit(ScriptRunConfig(folder, "train.py", arguments=["--lr", 0.1]))
    assert run.get_status() in (st.QUEUED, st.PREPARING, st.RUNNING)  # returned at once
    details = run.wait_for_completion()
    assert details["status"] == st.COMPLETED
    assert run.type == "azureml.scriptrun"
    metrics = run.get_metrics()
    assert metrics["loss"] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert metrics["args"] == "--lr 0.1"
    assert "trained" in run.get_details_with_logs()["logFiles"]["logs/std_log.txt"]
    compute = details["runDefinition"]["compute"]
    assert compute["script"] == "train.py" and compute["arguments"] == ["--lr", "0.1"]
    assert compute["exit_code"] == 0 and compute["target"] == "local"
    assert os.path.isfile(os.path.join(compute["working_directory"], "train.py"))
    assert "endTimeUtc" in details and details["target"] == "local"
    supervisor_log = Path(compute["job_directory"], "supervisor.log").read_text()
    statuses = [line.split()[-1] for line in supervisor_log.splitlines() if " status " in line]
    assert statuses == [st.PREPARING, st.RUNNING, st.FINALIZING, st.COMPLETED]  # after Queued


def test_unmodified_azureml_script_runs(exp: Experiment, source: Callable[..., Path]) -> None:
    folder = source({"score.py": AZUREML_SCRIPT})
    run = exp.submit(ScriptRunConfig(source_directory=str(folder), script="score.py"))
    run.wait_for_completion()
    assert run.get_metrics() == {"accuracy": 0.93}
    assert run.get_tags()["framework"] == "none"


def test_script_creates_five_children(exp: Experiment, source: Callable[..., Path]) -> None:
    folder = source(
        {
            "sweep.py": """
        from azureml.core import Run

        run = Run.get_context()
        for index, child in enumerate(run.create_children(count=5)):
            child.start()
            child.log("index", index)
            child.complete()
    """
        }
    )
    run = exp.submit(ScriptRunConfig(folder, "sweep.py"))
    run.wait_for_completion()
    children = list(run.get_children())
    assert len(children) == 5
    assert {c.get_status() for c in children} == {st.COMPLETED}
    values = sorted(m["index"] for m in run.get_metrics(recursive=True).values() if m)
    assert values == [0, 1, 2, 3, 4]


def test_exit_code_3_fails_with_code_and_stderr_tail(
    exp: Experiment, source: Callable[..., Path]
) -> None:
    folder = source(
        {
            "broken.py": """
        import sys
        print("about to fail", flush=True)
        print("first stderr line", file=sys.stderr)
        print("the data file is missing", file=sys.stderr)
        sys.exit(3)
    """
        }
    )
    run = exp.submit(ScriptRunConfig(folder, "broken.py"))
    with pytest.raises(ActivityFailedException) as caught:
        run.wait_for_completion()
    assert "exited with code 3" in str(caught.value)
    error = run.get_details()["error"]
    assert error["exitCode"] == 3
    assert "the data file is missing" in error["stderrTail"]
    assert "the data file is missing" in error["message"]
    assert run.get_status() == st.FAILED
    assert run.wait_for_completion(raise_on_error=False)["status"] == st.FAILED
    assert "Last lines of stderr" in run.get_detailed_status()["details"]


def test_uncaught_exception_fails_with_traceback_tail(
    exp: Experiment, source: Callable[..., Path]
) -> None:
    folder = source({"boom.py": "raise RuntimeError('exploded at epoch 4')\n"})
    run = exp.submit(ScriptRunConfig(folder, "boom.py"))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED
    assert details["error"]["exitCode"] == 1
    assert "RuntimeError: exploded at epoch 4" in details["error"]["stderrTail"]


def test_outputs_are_uploaded_and_registered_as_model(
    exp: Experiment, source: Callable[..., Path]
) -> None:
    folder = source(
        {
            "fit.py": """
        import os
        os.makedirs("outputs", exist_ok=True)
        with open("outputs/model.pkl", "wb") as handle:
            handle.write(b"weights")
        os.makedirs("logs", exist_ok=True)
        with open("logs/extra.txt", "w") as handle:
            handle.write("more logging")
    """
        }
    )
    run = exp.submit(ScriptRunConfig(folder, "fit.py"))
    run.wait_for_completion()
    names = run.get_file_names()
    assert "outputs/model.pkl" in names and "logs/extra.txt" in names
    model = run.register_model("fitted", model_path="outputs/model.pkl", tags={"k": "v"})
    assert model.version == 1 and model.run_id == run.id
    target = model.download(str(Path(folder).parent / "downloaded"))
    assert Path(target).read_bytes() == b"weights"
    assert Model(exp.workspace, "fitted").version == 1


def test_submit_child_and_tags(exp: Experiment, source: Callable[..., Path]) -> None:
    folder = source({"child.py": "from runhistory import Run\nRun.get_context().log('x', 1)\n"})
    parent = exp.start_logging(outputs=False)
    child = parent.submit_child(ScriptRunConfig(folder, "child.py"), tags={"kind": "child"})
    child.wait_for_completion()
    assert child.parent is not None and child.parent.id == parent.id
    assert child.get_tags() == {"kind": "child"}
    assert [c.id for c in parent.get_children()] == [child.id]
    parent.complete()


def test_command_form_runs_with_alias(exp: Experiment, source: Callable[..., Path]) -> None:
    folder = source({"cmd.py": AZUREML_SCRIPT})
    run = exp.submit(ScriptRunConfig(folder, command=["python", "cmd.py"]))
    run.wait_for_completion()
    assert run.get_metrics() == {"accuracy": 0.93}


def test_bad_configurations_are_clear_errors(exp: Experiment, source: Callable[..., Path]) -> None:
    folder = source({"ok.py": "print(1)\n"})
    with pytest.raises(ValidationError, match="not a file inside source_directory"):
        exp.submit(ScriptRunConfig(folder, "missing.py"))
    with pytest.raises(ValidationError, match="is not a folder"):
        exp.submit(ScriptRunConfig(folder / "nope", "ok.py"))
    with pytest.raises(ValidationError, match="unknown compute target 'gpu-cluster'"):
        exp.submit(ScriptRunConfig(folder, "ok.py", compute_target="gpu-cluster"))
    with pytest.raises(ValidationError, match="either script= or command="):
        ScriptRunConfig(folder, "ok.py", command="python ok.py")
    assert list(exp.get_runs()) == []  # nothing was created for a refused submission


def test_cancelling_a_finished_run_is_an_error(
    exp: Experiment, source: Callable[..., Path]
) -> None:
    folder = source({"ok.py": "print('done')\n"})
    run = exp.submit(ScriptRunConfig(folder, "ok.py"))
    run.wait_for_completion()
    with pytest.raises(InvalidTransitionError, match="already Completed"):
        run.cancel()


def test_get_environment_describes_the_interpreter(
    exp: Experiment, source: Callable[..., Path]
) -> None:
    folder = source({"ok.py": "print('done')\n"})
    run = exp.submit(ScriptRunConfig(folder, "ok.py"))
    run.wait_for_completion()
    environment = run.get_environment()
    python = environment["python"]
    assert python["version"] == ".".join(map(str, sys.version_info[:3]))
    assert python["interpreterPath"] == sys.executable
    assert "runhistory" in {name.lower() for name in python["packages"]}
    assert environment["definition"]["python"]["userManagedDependencies"] is False
    assert environment["build"]["kind"] == "current"


def test_run_from_get_context_inside_job_is_the_submitted_run(
    exp: Experiment, source: Callable[..., Path]
) -> None:
    folder = source(
        {
            "who.py": """
        import os
        from runhistory import Run
        run = Run.get_context()
        assert run.id == os.environ["RUNHISTORY_RUN_ID"] == os.environ["AZUREML_RUN_ID"]
        assert run.get_status() == "Running", run.get_status()
        print("cwd", os.getcwd())
    """
        }
    )
    run = exp.submit(ScriptRunConfig(folder, "who.py"))
    assert run.wait_for_completion()["status"] == st.COMPLETED
    assert isinstance(Run.get(exp.workspace, run.id), Run)
