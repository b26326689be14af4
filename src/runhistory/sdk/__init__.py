"""The user-facing SDK: Workspace, Experiment, Run, Model."""
