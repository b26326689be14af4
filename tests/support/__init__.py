"""Helpers shared by several test folders: real service subprocesses on loopback, child
processes, single store writes and MLflow's multipart uploads."""
