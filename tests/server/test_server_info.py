"""The server's public URL reaches clients: ``--public-url`` / ``RUNHISTORY_PUBLIC_URL``."""

from __future__ import annotations

from pathlib import Path

from runhistory import Experiment, Workspace
from support.services import start_server


def _portal_url(server_url: str) -> str:
    run = Experiment(Workspace(tracking_uri=server_url), "links").start_logging()
    run.complete()
    return run.get_portal_url()


def test_public_url_option_is_used_in_portal_links(tmp_path: Path) -> None:
    server = start_server(
        str(tmp_path / "ws"), tmp_path / "server.log",
        extra_args=["--public-url", "https://ml.example.test/"],
    )  # fmt: skip
    try:
        assert _portal_url(server.url).startswith("https://ml.example.test/#/experiments/")
    finally:
        server.stop()


def test_public_url_from_the_environment_and_the_default(tmp_path: Path) -> None:
    env = {"RUNHISTORY_PUBLIC_URL": "https://env.example.test"}
    server = start_server(str(tmp_path / "a"), tmp_path / "a.log", env=env)
    plain = start_server(str(tmp_path / "b"), tmp_path / "b.log")
    try:
        assert _portal_url(server.url).startswith("https://env.example.test/#/experiments/")
        assert _portal_url(plain.url).startswith(f"{plain.url}/#/experiments/")
    finally:
        server.stop()
        plain.stop()
