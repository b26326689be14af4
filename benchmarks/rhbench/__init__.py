"""runhistory's benchmark harness: the same workloads for runhistory and MLflow, side by side."""
