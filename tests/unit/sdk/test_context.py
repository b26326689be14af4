"""``Run.get_context()`` in real processes: interactive runs and submitted runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from runhistory import Experiment, Workspace
from runhistory.tracking import status as st


def _run_script(
    tmp_path: Path, name: str, code: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / name
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    import os

    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_get_context_twice_gives_the_same_run(tmp_path: Path) -> None:
    result = _run_script(
        tmp_path,
        "same_run.py",
        """
        from runhistory import Run
        first = Run.get_context()
        second = Run.get_context()
        assert first is second, (first.id, second.id)
        first.log("x", 1)
        second.log("x", 2)
        print(first.id)
        """,
    )
    assert result.returncode == 0, result.stderr
    runs = list(Experiment(Workspace(), "same_run").get_runs())
    assert [r.id for r in runs] == [result.stdout.strip()]
    assert runs[0].get_metrics() == {"x": [1, 2]}


def test_interactive_run_is_named_after_the_script_and_completed(tmp_path: Path) -> None:
    result = _run_script(
        tmp_path,
        "my_training.py",
        """
        from runhistory import Run
        run = Run.get_context()
        run.log("loss", 0.5)
        print(run.experiment.name, run.get_status())
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["my_training", st.RUNNING]
    (run,) = Experiment(Workspace(), "my_training").get_runs()
    assert run.get_status() == st.COMPLETED
    assert run.get_metrics() == {"loss": 0.5}


def test_uncaught_exception_fails_the_run_with_its_message(tmp_path: Path) -> None:
    result = _run_script(
        tmp_path,
        "crashing.py",
        """
        from runhistory import Run
        run = Run.get_context()
        run.log("before", 1)
        raise RuntimeError("the loss became NaN at step 17")
        """,
    )
    assert result.returncode == 1
    assert "the loss became NaN at step 17" in result.stderr  # the traceback is still shown
    (run,) = Experiment(Workspace(), "crashing").get_runs()
    assert run.get_status() == st.FAILED
    error = run.get_details()["error"]
    assert "RuntimeError: the loss became NaN at step 17" in error["message"]
    assert run.get_metrics() == {"before": 1}


def test_context_returns_the_run_named_by_the_environment(tmp_path: Path) -> None:
    workspace = Workspace(path=tmp_path / "submitted-ws")
    submitted = Experiment(workspace, "submitted").start_logging(outputs=False)
    result = _run_script(
        tmp_path,
        "worker.py",
        """
        from runhistory import Run
        run = Run.get_context()
        run.log("from_worker", 42)
        run.flush()
        print(run.id, run.experiment.name)
        """,
        env={
            "RUNHISTORY_RUN_ID": submitted.id,
            "RUNHISTORY_TRACKING_URI": str(tmp_path / "submitted-ws"),
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [submitted.id, "submitted"]
    assert submitted.get_metrics() == {"from_worker": 42}
    assert Experiment.list(Workspace()) == []  # nothing went to the default workspace
