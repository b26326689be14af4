# Item 6: structured metrics with the schema versions the original's examples pass.
# %%
from azureml.core import Experiment, Run, Workspace

ws = Workspace.from_config()
run = Experiment(ws, "structured-metrics").start_logging()
# %%
cmtx = {"schema_type": "confusion_matrix", "schema_version": "v1",
        "data": {"class_labels": ["0", "1"], "matrix": [[6, 1], [2, 9]]}}
run.log_confusion_matrix(name="confusion matrix", value=cmtx)
predictions = {"schema_type": "predictions", "schema_version": "v1",
               "data": {"bin_averages": [0.25, 0.75], "bin_errors": [0.013, 0.042],
                        "bin_counts": [56, 34], "bin_edges": [0.0, 0.5, 1.0]}}
run.log_predictions(name="predictions", value=predictions)
residuals = {"schema_type": "residuals", "schema_version": "1.0.0",
             "data": {"bin_edges": [50, 100, 200, 300, 350], "bin_counts": [0.88, 20, 30, 50.99]}}
run.log_residuals(name="residuals", value=residuals)
accuracy = {"schema_type": "accuracy_table", "schema_version": "v1",
            "data": {"probability_tables": [[[82, 118, 0, 0], [75, 31, 87, 7], [0, 0, 118, 82]]],
                     "percentile_tables": [[[82, 118, 0, 0], [50, 60, 58, 32], [0, 0, 118, 82]]],
                     "class_labels": ["0"], "probability_thresholds": [0.0, 0.5, 1.0],
                     "percentile_thresholds": [0.0, 0.5, 1.0]}}
run.log_accuracy_table(name="accuracy table", value=accuracy)
run.complete()
# %% check
metrics = Run(run.experiment, run.id).get_metrics()
assert metrics["confusion matrix"]["schema_version"] == "v1"
assert metrics["confusion matrix"]["data"]["matrix"] == [[6, 1], [2, 9]]
assert metrics["predictions"]["data"]["bin_counts"] == [56, 34]
assert metrics["residuals"]["schema_version"] == "1.0.0"
assert metrics["accuracy table"]["data"]["class_labels"] == ["0"]
