"""SPEC §3: every log kind, its get_metrics() shape, and every bad-input rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runhistory import Experiment, Run
from runhistory.errors import InvalidMetricError, NotFoundError


@pytest.fixture
def run(experiment: Experiment) -> Run:
    return experiment.start_logging(outputs=False)


def test_spec_recursive_example_verbatim(run: Run) -> None:
    run.log("A", 1)
    with run.child_run() as child:
        child.log("A", 2)
    assert run.get_metrics() == {"A": 1}
    assert run.get_metrics(recursive=True) == {run.id: {"A": 1}, child.id: {"A": 2}}


def test_single_value_is_bare_and_repeated_values_are_a_list(run: Run) -> None:
    run.log("once", 0.5)
    for value in (3, 1, 2):
        run.log("many", value)
    assert run.get_metrics() == {"once": 0.5, "many": [3, 1, 2]}


def test_values_with_steps_come_back_in_step_order(run: Run) -> None:
    run.log("loss", 0.3, step=3)
    run.log("loss", 0.1, step=1)
    run.log("loss", 0.2, step=2)
    assert run.get_metrics("loss") == {"loss": [0.1, 0.2, 0.3]}
    history = run.get_metric_history("loss")
    assert [(p["step"], p["value"]) for p in history] == [(3, 0.3), (1, 0.1), (2, 0.2)]
    assert all(isinstance(p["time"], float) for p in history)


def test_value_types_round_trip(run: Run) -> None:
    run.log("int", 7)
    run.log("float", 2.5)
    run.log("str", "adam")
    run.log("bool", True)
    metrics = run.get_metrics()
    assert metrics == {"int": 7, "float": 2.5, "str": "adam", "bool": True}
    assert type(metrics["int"]) is int and type(metrics["bool"]) is bool


def test_nan_and_infinities_are_stored_faithfully(run: Run) -> None:
    for value in (math.nan, math.inf, -math.inf, 1.0):
        run.log("weird", value)
    values = run.get_metrics()["weird"]
    assert math.isnan(values[0])
    assert values[1:] == [math.inf, -math.inf, 1.0]


def test_numpy_scalars_are_stored_as_numbers(run: Run) -> None:
    run.log("f32", np.float32(0.25))
    run.log("i64", np.int64(12))
    run.log("np_bool", np.bool_(False))
    run.log("stepped", 1.0, step=np.int64(4))
    metrics = run.get_metrics()
    assert metrics["f32"] == 0.25 and isinstance(metrics["f32"], float)
    assert metrics["i64"] == 12 and type(metrics["i64"]) is int
    assert metrics["np_bool"] is False
    assert run.get_metric_history("stepped")[0]["step"] == 4


def test_log_of_a_list_points_to_log_list(run: Run) -> None:
    with pytest.raises(InvalidMetricError, match="log_list"):
        run.log("values", [1, 2, 3])
    with pytest.raises(InvalidMetricError, match="log_list"):
        run.log("values", np.array([1.0, 2.0]))


def test_log_of_a_dict_points_to_log_row(run: Run) -> None:
    with pytest.raises(InvalidMetricError, match="log_row"):
        run.log("values", {"a": 1})


def test_log_of_other_types_is_a_clear_error(run: Run) -> None:
    with pytest.raises(InvalidMetricError, match="numbers, strings or bools"):
        run.log("obj", object())
    with pytest.raises(InvalidMetricError, match="numbers, strings or bools"):
        run.log("none", None)


def test_steps_are_all_or_nothing(run: Run) -> None:
    run.log("stepped", 1.0, step=0)
    with pytest.raises(InvalidMetricError, match="if any value of a metric has a step"):
        run.log("stepped", 2.0)
    run.log("plain", 1.0)
    with pytest.raises(InvalidMetricError, match="if any value of a metric has a step"):
        run.log("plain", 2.0, step=1)


def test_step_must_be_an_integer(run: Run) -> None:
    with pytest.raises(InvalidMetricError, match="step must be an integer"):
        run.log("x", 1.0, step=1.5)  # type: ignore[arg-type]


def test_a_metric_keeps_its_kind(run: Run) -> None:
    run.log("m", 1.0)
    with pytest.raises(InvalidMetricError, match="scalar metric"):
        run.log_list("m", [1, 2])


def test_metric_names_are_checked(run: Run) -> None:
    with pytest.raises(InvalidMetricError.__mro__[1], match="metric name"):
        run.log("", 1.0)
    with pytest.raises(InvalidMetricError.__mro__[1], match="metric name"):
        run.log("x" * 256, 1.0)


def test_log_list_returns_the_list_and_a_single_element_bare(run: Run) -> None:
    run.log_list("accuracies", [0.6, 0.7, 0.87])
    run.log_list("single", [42])
    assert run.get_metrics() == {"accuracies": [0.6, 0.7, 0.87], "single": 42}


def test_log_list_refuses_non_lists(run: Run) -> None:
    with pytest.raises(InvalidMetricError, match="log_list takes a list"):
        run.log_list("x", 5)


def test_log_row_one_row_and_several_rows(run: Run) -> None:
    run.log_row("Y over X", x=1, y=0.4)
    assert run.get_metrics("Y over X") == {"Y over X": {"x": 1, "y": 0.4}}
    run.log_row("Y over X", x=2, y=0.6)
    assert run.get_metrics("Y over X") == {"Y over X": {"x": [1, 2], "y": [0.4, 0.6]}}


def test_log_row_needs_columns(run: Run) -> None:
    with pytest.raises(InvalidMetricError, match="at least one column"):
        run.log_row("empty")


def test_log_table(run: Run) -> None:
    run.log_table("table", {"epoch": [1, 2, 3], "loss": [0.5, 0.3, 0.2]})
    run.log_table("one", {"a": [1], "b": ["x"]})
    metrics = run.get_metrics()
    assert metrics["table"] == {"epoch": [1, 2, 3], "loss": [0.5, 0.3, 0.2]}
    assert metrics["one"] == {"a": 1, "b": "x"}


def test_log_table_columns_must_have_equal_length(run: Run) -> None:
    with pytest.raises(InvalidMetricError, match="differ in length"):
        run.log_table("bad", {"a": [1, 2], "b": [1]})
    with pytest.raises(InvalidMetricError, match="must be a list"):
        run.log_table("bad", {"a": 1})


CONFUSION = {
    "schema_type": "confusion_matrix",
    "schema_version": "1.0.0",
    "data": {
        "class_labels": ["0", "1", "2", "3"],
        "matrix": [[3, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1]],
    },
}
RESIDUALS = {
    "schema_type": "residuals",
    "schema_version": "1.0.0",
    "data": {"bin_edges": [50, 100, 200, 300, 350], "bin_counts": [0.88, 20, 30, 50.99]},
}
PREDICTIONS = {
    "schema_type": "predictions",
    "schema_version": "1.0.0",
    "data": {
        "bin_averages": [0.25, 0.75],
        "bin_errors": [0.013, 0.042],
        "bin_counts": [56, 34],
        "bin_edges": [0.0, 0.5, 1.0],
    },
}


def test_structured_documents_round_trip(run: Run) -> None:
    import json

    run.log_confusion_matrix("cm", CONFUSION)
    run.log_residuals("res", json.dumps(RESIDUALS))
    run.log_predictions("pred", PREDICTIONS)
    metrics = run.get_metrics()
    assert metrics["cm"] == CONFUSION
    assert metrics["res"] == RESIDUALS
    assert metrics["pred"] == PREDICTIONS


def test_accuracy_table_from_the_helpers_round_trips(run: Run) -> None:
    from runhistory import metrics as rm

    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 50)
    scores = rng.random(50)
    table = rm.accuracy_table(y_true, scores, num_points=11)
    run.log_accuracy_table("acc", table)
    assert run.get_metrics("acc")["acc"] == table


def test_invalid_structured_documents_say_what_failed(run: Run) -> None:
    bad = {
        "schema_type": "confusion_matrix",
        "schema_version": "1.0.0",
        "data": {"class_labels": ["a", "b"], "matrix": [[1, 2, 3], [4, 5, 6]]},
    }
    with pytest.raises(InvalidMetricError, match="confusion_matrix"):
        run.log_confusion_matrix("cm", bad)
    bad_res = {
        "schema_type": "residuals",
        "schema_version": "1.0.0",
        "data": {"bin_edges": [0, 1], "bin_counts": [1, 2]},
    }
    with pytest.raises(InvalidMetricError, match="residuals"):
        run.log_residuals("res", bad_res)
    with pytest.raises(InvalidMetricError):
        run.log_predictions("p", "{not json")


def test_log_image_from_a_file_and_from_a_figure(run: Run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots()
    axis.plot([1, 2, 3])
    png = tmp_path / "plot.png"
    figure.savefig(png)
    run.log_image("from_file", path=str(png))
    run.log_image("from_plot", plot=figure)
    plt.close(figure)
    metrics = run.get_metrics()
    names = run.get_file_names()
    for key in ("from_file", "from_plot"):
        reference = metrics[key]
        assert reference.startswith(f"aml://artifactId/ExperimentRun/dcid.{run.id}/")
        stored = reference.split(f"dcid.{run.id}/", 1)[1]
        assert stored in names


def test_log_image_needs_exactly_one_source(run: Run) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        run.log_image("img")


def test_get_metrics_by_name_and_unknown_name(run: Run) -> None:
    run.log("a", 1)
    run.log("b", 2)
    assert run.get_metrics("b") == {"b": 2}
    assert run.get_metrics("missing") == {}
    with pytest.raises(NotFoundError):
        run.get_metric_history("missing")


def test_recursive_metrics_cover_the_whole_tree_and_filter_by_type(run: Run) -> None:
    child = run.child_run("child")
    grandchild = child.child_run("grandchild")
    grandchild.log("depth", 2)
    child.log("depth", 1)
    result = run.get_metrics(recursive=True)
    assert result == {run.id: {}, child.id: {"depth": 1}, grandchild.id: {"depth": 2}}
    assert run.get_metrics(recursive=True, run_type="no-such-type") == {}


def test_description_is_kept(run: Run) -> None:
    run.log("lr", 0.1, description="learning rate")
    run.flush()
    backend = run.experiment.workspace._connection.backend
    infos = {i.name: i for i in backend.get_metric_infos(run.id)}
    assert infos["lr"].description == "learning rate"
    assert infos["lr"].kind == "scalar"


def test_flush_makes_values_visible_to_a_fresh_run_object(run: Run) -> None:
    for i in range(1000):
        run.log("x", i, step=i)
    run.flush()
    again = Run(run.experiment, run.id)
    assert again.get_metrics("x")["x"] == list(range(1000))
