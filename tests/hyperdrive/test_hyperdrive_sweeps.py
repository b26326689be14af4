"""Real sweeps: a detached controller starting real child processes against a real store."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from runhistory import Experiment, Run, ScriptRunConfig, Workspace
from runhistory.hyperdrive import (
    BanditPolicy,
    BayesianParameterSampling,
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveRun,
    PrimaryMetricGoal,
    RandomParameterSampling,
    choice,
    quniform,
    uniform,
)
from runhistory.tracking import status as st


def _config(source: Path, sampling: object, **kwargs: object) -> HyperDriveConfig:
    values: dict[str, object] = {
        "run_config": ScriptRunConfig(source, "train.py", arguments=kwargs.pop("arguments", [])),
        "hyperparameter_sampling": sampling,
        "primary_metric_name": "score",
        "primary_metric_goal": PrimaryMetricGoal.MAXIMIZE,
        "max_total_runs": 20,
    }
    values.update(kwargs)
    return HyperDriveConfig(**values)  # type: ignore[arg-type]


def test_grid_runs_every_combination_once_and_finds_the_best(
    exp: Experiment, score_source: Path, wait_terminal: Callable[..., str]
) -> None:
    sampling = GridParameterSampling({"a": choice(1, 2), "--b": choice("p", "q", "r")})
    sweep = exp.submit(_config(score_source, sampling, max_concurrent_runs=3))
    assert isinstance(sweep, HyperDriveRun) and sweep.type == "hyperdrive"
    assert sweep.get_status() in st.ACTIVE_STATUSES  # returned at once
    assert wait_terminal(sweep) == st.COMPLETED
    children = list(sweep.get_children())
    assert len(children) == 6
    seen = set()
    for child in children:
        arguments = child.get_details()["runDefinition"]["compute"]["arguments"]
        values = json.loads(child.properties["_hyperparameters"])
        assert child.properties["a"] == str(values["a"]) and child.properties["b"] == values["--b"]
        assert arguments == ["--a", str(values["a"]), "--b", values["--b"]]
        assert child.get_status() == st.COMPLETED
        assert child.get_metrics()["score"] == values["a"] * 10 + "pqr".index(values["--b"])
        seen.add((values["a"], values["--b"]))
    assert seen == {(a, b) for a in (1, 2) for b in "pqr"}
    best = sweep.get_best_run_by_primary_metric()
    assert best is not None and sweep.get_hyperparameters()[best.id] == {"a": 2, "--b": "r"}
    assert sweep.properties["best_child_run_id"] == best.id
    top = sweep.get_children_sorted_by_primary_metric(top=2)
    assert [e["best_primary_metric"] for e in top] == [22, 21]
    assert set(top[0]) == {"run_id", "hyperparameters", "best_primary_metric", "status"}
    assert set(sweep.get_metrics()) == {c.id for c in children}
    assert "sweep Completed" in sweep.get_details_with_logs()["logFiles"]["logs/std_log.txt"]


def test_minimize_goal_picks_the_smallest(
    exp: Experiment, score_source: Path, wait_terminal: Callable[..., str]
) -> None:
    sampling = GridParameterSampling({"a": choice(3, 1, 2)})
    config = _config(score_source, sampling, primary_metric_goal=PrimaryMetricGoal.MINIMIZE)
    sweep = exp.submit(config)
    assert wait_terminal(sweep) == st.COMPLETED
    best = sweep.get_best_run_by_primary_metric()
    assert best is not None and best.get_metrics()["score"] == 10
    ordered = sweep.get_children_sorted_by_primary_metric()
    assert [e["best_primary_metric"] for e in ordered] == [10, 20, 30]


def test_random_and_bayesian_respect_the_limits(
    exp: Experiment,
    score_source: Path,
    wait_terminal: Callable[..., str],
    most_at_once: Callable[[list[Run]], int],
) -> None:
    samplings = [
        RandomParameterSampling({"a": uniform(0, 1), "b": choice("p", "q")}),
        BayesianParameterSampling({"a": quniform(0, 3, 1), "b": choice("p", "q", "r")}),
    ]
    sweeps = [
        exp.submit(
            _config(
                score_source,
                sampling,
                max_total_runs=4,
                max_concurrent_runs=2,
                arguments=["--pause", "1"],
            )
        )
        for sampling in samplings
    ]
    for sweep in sweeps:
        assert wait_terminal(sweep) == st.COMPLETED
        children = list(sweep.get_children())
        assert len(children) == 4
        assert all(c.get_status() == st.COMPLETED for c in children)
        assert 1 <= most_at_once(children) <= 2
        for values in sweep.get_hyperparameters().values():
            assert set(values) == {"a", "b"}


def test_bandit_cancels_a_clearly_worse_child(
    exp: Experiment, score_source: Path, wait_terminal: Callable[..., str]
) -> None:
    sampling = GridParameterSampling({"a": choice(1, 0)})
    config = _config(
        score_source,
        sampling,
        policy=BanditPolicy(slack_factor=0.1),
        arguments=["--steps", "40", "--pause", "0.2"],
    )
    sweep = exp.submit(config)
    assert wait_terminal(sweep) == st.COMPLETED
    by_a = {values["a"]: rid for rid, values in sweep.get_hyperparameters().items()}
    good, bad = Run.get(exp.workspace, by_a[1]), Run.get(exp.workspace, by_a[0])
    assert good.get_status() == st.COMPLETED and len(good.get_metrics()["score"]) == 40
    assert bad.get_status() == st.CANCELED
    error = bad.get_details()["error"]
    assert error["code"] == "EarlyTermination" and "BanditPolicy" in error["message"]
    scores = bad.get_metrics()["score"]  # one value logged: a scalar, as the original SDK
    assert len(scores if isinstance(scores, list) else [scores]) < 40


def test_canceling_the_sweep_cancels_its_children(
    exp: Experiment, score_source: Path, wait_terminal: Callable[..., str]
) -> None:
    sampling = GridParameterSampling({"a": choice(1, 2, 3)})
    config = _config(
        score_source,
        sampling,
        max_concurrent_runs=2,
        arguments=["--steps", "300", "--pause", "0.1"],
    )
    sweep = exp.submit(config)
    deadline_children = 60
    for _ in range(deadline_children * 5):
        children = list(sweep.get_children())
        if len(children) == 2 and all(c.get_metrics().get("score") for c in children):
            break
        __import__("time").sleep(0.2)
    assert sweep.cancel() is True
    assert sweep.get_status() == st.CANCELED
    children = list(sweep.get_children())
    assert len(children) == 2  # no new child after the cancel
    assert all(wait_terminal(c, timeout=20) == st.CANCELED for c in children)


def test_the_sweep_outlives_the_process_that_submitted_it(
    tmp_path: Path, score_source: Path, wait_terminal: Callable[..., str]
) -> None:
    submitter = tmp_path / "submit.py"
    submitter.write_text(
        textwrap.dedent(
            f"""
            from azureml.core import Experiment, ScriptRunConfig, Workspace
            from azureml.train.hyperdrive import (
                GridParameterSampling, HyperDriveConfig, PrimaryMetricGoal, choice)

            ws = Workspace(path={str(tmp_path / "ws")!r})
            config = HyperDriveConfig(
                run_config=ScriptRunConfig({str(score_source)!r}, "train.py",
                                           arguments=["--pause", "1"]),
                hyperparameter_sampling=GridParameterSampling({{"a": choice(1, 2)}}),
                primary_metric_name="score",
                primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                max_total_runs=2)
            print(Experiment(ws, "detached").submit(config).id)
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "runhistory.compat.azureml", str(submitter)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    run_id = done.stdout.strip().splitlines()[-1]
    ws = Workspace(path=tmp_path / "ws")
    sweep = Run.get(ws, run_id)
    assert isinstance(sweep, HyperDriveRun)  # read back as a sweep
    assert sweep.get_status() in st.ACTIVE_STATUSES  # the submitter is gone, the sweep is not
    assert wait_terminal(sweep) == st.COMPLETED
    children = list(sweep.get_children())
    assert len(children) == 2 and all(c.get_status() == st.COMPLETED for c in children)
    best = sweep.get_best_run_by_primary_metric()
    assert best is not None and best.get_metrics()["score"] == 20
    assert [type(r) for r in Experiment(ws, "detached").get_runs()] == [HyperDriveRun]


def test_a_sweep_against_a_real_server(
    tmp_path: Path, score_source: Path, wait_terminal: Callable[..., str]
) -> None:
    from support.services import start_server

    server = start_server(str(tmp_path / "server-store"), tmp_path / "server.log")
    try:
        exp = Experiment(Workspace(tracking_uri=server.url), "served")
        sampling = GridParameterSampling({"a": choice(1, 2)})
        sweep = exp.submit(_config(score_source, sampling))
        assert wait_terminal(sweep) == st.COMPLETED
        assert len(list(sweep.get_children())) == 2
        best = sweep.get_best_run_by_primary_metric()
        assert best is not None and sweep.get_hyperparameters()[best.id] == {"a": 2}
        assert best.get_metrics()["score"] == 20
    finally:
        server.stop()


def test_a_lost_controller_fails_the_sweep(
    exp: Experiment, score_source: Path, cleanup_runs: list[Run]
) -> None:
    import os
    import signal
    import time

    sampling = GridParameterSampling({"a": choice(1, 2)})
    config = _config(score_source, sampling, arguments=["--steps", "300", "--pause", "0.1"])
    sweep = exp.submit(config)
    cleanup_runs.append(sweep)
    deadline = time.monotonic() + 60
    while len(list(sweep.get_children())) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    cleanup_runs.extend(sweep.get_children())
    compute = sweep.get_details()["runDefinition"]["compute"]
    os.kill(compute["supervisor_pid"], signal.SIGKILL)
    while sweep.get_status() != st.FAILED and time.monotonic() < deadline:
        time.sleep(0.2)
    error = sweep.get_details()["error"]
    assert sweep.get_status() == st.FAILED and "ended without finishing" in error["message"]


def test_max_duration_cancels_the_children_still_running(
    exp: Experiment, score_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The controller runs here, in this process, so that its stored time limit can be made
    # shorter than the one minute the API allows before it starts.
    from runhistory.hyperdrive import submission
    from runhistory.hyperdrive.controller import Controller

    monkeypatch.setattr(submission, "start_controller", lambda *args: None)
    sampling = GridParameterSampling({"a": choice(1, 2)})
    config = _config(score_source, sampling, arguments=["--steps", "300", "--pause", "0.1"])
    sweep = exp.submit(config)
    connection = exp.workspace._connection
    definition = connection.backend.get_run(sweep.id).run_definition
    definition["hyperdrive"]["max_duration_minutes"] = 0.1  # six seconds
    connection.backend.update_run(sweep.id, run_definition=definition)
    controller = Controller(connection.backend, connection.location, sweep.id)
    try:
        controller.run()
    finally:
        controller.close()
    assert sweep.get_status() == st.COMPLETED
    children = list(sweep.get_children())
    assert len(children) == 2
    for child in children:
        assert child.get_status() == st.CANCELED
        assert "max_duration_minutes=0.1" in child.get_details()["error"]["message"]
