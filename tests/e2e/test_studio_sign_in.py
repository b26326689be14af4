"""Signing in to the studio of a server started with --auth (Debian's Chromium).

The browser signs in with a token, sees an image metric and downloads a file; the same
requests without the session cookie are refused (401), signing out ends the session, and a
one-click link from ``runhistory token create --print-url`` signs in without typing.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from studio_data import png

from support.services import ServerProcess, runhistory_command, start_server

WEIGHTS = b"weights of the model\n" * 50


@dataclass
class AuthStudio:
    server: ServerProcess
    folder: Path
    token: str
    run_id: str
    experiment_id: str

    def cli(self, *args: str) -> list[str]:
        command = [runhistory_command(), *args, "--backend-store-uri", str(self.folder)]
        done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
        return done.stdout.split()


def _log_run(url: str, token: str, folder: Path, patch: pytest.MonkeyPatch) -> tuple[str, str]:
    from runhistory import Experiment, Workspace

    patch.setenv("RUNHISTORY_TRACKING_TOKEN", token)
    run = Experiment(Workspace(tracking_uri=url), "signed-in").start_logging(outputs=False)
    image = folder / "sample.png"
    image.write_bytes(png(48, 32, (200, 60, 40)))
    run.log_image("samples", path=str(image))
    weights = folder / "weights.bin"
    weights.write_bytes(WEIGHTS)
    run.upload_file("outputs/weights.bin", str(weights))
    run.complete()
    assert run.get_details()["submittedBy"] == "alice"  # the token's name, not a Unix user
    return run.id, run.experiment.id


@pytest.fixture(scope="module")
def auth_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthStudio]:
    root = tmp_path_factory.mktemp("auth-studio")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUNHISTORY_HOME", str(root / "home"))
        patch.setenv("RUNHISTORY_QUIET", "1")
        folder = root / "workspace"
        server = start_server(str(folder), root / "server.log", extra_args=["--auth"])
        try:
            studio = AuthStudio(server, folder, "", "", "")
            studio.token = studio.cli("token", "create", "--name", "alice")[0]
            studio.run_id, studio.experiment_id = _log_run(server.url, studio.token, root, patch)
            yield studio
        finally:
            server.stop()
        assert studio.token not in server.log()


@pytest.fixture
def context(browser: Any, auth_studio: AuthStudio) -> Iterator[Any]:
    opened = browser.new_context(base_url=auth_studio.server.url, accept_downloads=True)
    yield opened
    opened.close()


def _run_path(studio: AuthStudio) -> str:
    return f"/#/experiments/{studio.experiment_id}/runs/{studio.run_id}"


def _file_url(studio: AuthStudio, name: str) -> str:
    return f"{studio.server.url}/api/v1/runs/{studio.run_id}/files/{name}"


def _sign_in_with_token(page: Any, token: str) -> None:
    page.goto("/")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def test_sign_in_see_an_image_and_download_a_file(context: Any, auth_studio: AuthStudio) -> None:
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(_run_path(auth_studio))
    page.get_by_role("heading", name="Sign in").wait_for()
    _sign_in_with_token(page, auth_studio.token)
    page.goto(_run_path(auth_studio))
    image = page.locator('img[alt^="samples"]')
    image.wait_for()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 48", arg=image.element_handle()
    )
    image_name = image.get_attribute("src").split("/files/", 1)[1]
    page.goto(_run_path(auth_studio) + "/files")
    page.get_by_role("button", name="outputs/").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="weights.bin").click()
    assert Path(download_info.value.path()).read_bytes() == WEIGHTS
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["rh_session"]["httpOnly"] and cookies["rh_session"]["sameSite"] == "Strict"
    # The very same requests without the cookie are refused.
    with httpx.Client() as bare:
        for name in (image_name, "outputs/weights.bin"):
            assert bare.get(_file_url(auth_studio, name)).status_code == 401
    # With the cookie (the browser's own request context) they work; after sign-out not.
    assert context.request.get(_file_url(auth_studio, "outputs/weights.bin")).status == 200
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert context.request.get(_file_url(auth_studio, "outputs/weights.bin")).status == 401


def test_a_sign_in_link_signs_in_once(context: Any, auth_studio: AuthStudio) -> None:
    url = auth_studio.server.url
    link = auth_studio.cli("token", "link", "alice", "--public-url", url)[0]
    assert link.startswith(f"{url}/#/sign-in?code=") and auth_studio.token not in link
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(link)
    page.get_by_role("button", name="Sign out").wait_for()
    assert "code=" not in page.url
    page.get_by_role("link", name="signed-in").wait_for()
    assert link.split("code=")[1] not in auth_studio.server.log()
    other = context.browser.new_context(base_url=url)
    try:
        again = other.new_page()
        again.goto(link)
        again.get_by_role("alert").wait_for()  # the code was used up
        assert "not valid" in again.get_by_role("alert").inner_text()
    finally:
        other.close()


def test_a_wrong_token_says_so(context: Any) -> None:
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/")
    page.get_by_label("Token").fill("rht_wrong")
    page.get_by_role("button", name="Sign in").click()
    assert "not valid" in page.get_by_role("alert").inner_text()
