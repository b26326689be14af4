"""Helpers shared by several test folders: real service subprocesses on loopback."""
