"""Files go through the server in chunks, both ways, and byte ranges are served."""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from runhistory import Experiment, Workspace
from runhistory.client.http import HttpClient
from runhistory.errors import RangeNotSatisfiableError, RunhistoryError
from support.services import ServerProcess, stop, wait_until_up

SIZE = 48 * 1024 * 1024 + 123  # several chunks, not a multiple of the chunk size


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def test_large_file_round_trip(pg_server: ServerProcess, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    with open(source, "wb") as handle:
        for _ in range(SIZE // (1 << 20)):
            handle.write(os.urandom(1 << 20))
        handle.write(os.urandom(SIZE % (1 << 20)))
    run = Experiment(Workspace(tracking_uri=pg_server.url), "files").start_logging(outputs=False)
    info = run.upload_file("outputs/big.bin", str(source))
    assert info.size == SIZE and info.sha256 == _sha(source)
    again = run.upload_file("outputs/big.bin", str(source))  # identical: nothing is re-sent
    assert again.created_time == info.created_time
    target = Path(run.download_file("outputs/big.bin", str(tmp_path / "back.bin")))
    assert _sha(target) == info.sha256
    with run._backend.open_file(run.id, "outputs/big.bin") as stream:
        assert stream.read(10) == source.read_bytes()[:10]


def test_range_requests(pg_server: ServerProcess) -> None:
    run = Experiment(Workspace(tracking_uri=pg_server.url), "ranges").start_logging(outputs=False)
    run.upload_file("logs/out.txt", io.BytesIO(b"0123456789"))
    url = f"{pg_server.url}/api/v1/runs/{run.id}/files/logs/out.txt"
    part = httpx.get(url, headers={"Range": "bytes=2-5"})
    assert part.status_code == 206 and part.content == b"2345"
    assert part.headers["content-range"] == "bytes 2-5/10"
    assert httpx.get(url, headers={"Range": "bytes=-3"}).content == b"789"
    refused = httpx.get(url, headers={"Range": "bytes=20-30"})
    assert refused.status_code == 416 and refused.json()["error"] == "RangeNotSatisfiableError"
    whole = httpx.get(url)
    assert whole.content == b"0123456789" and whole.headers["content-type"].startswith("text/plain")


def test_a_log_tail_past_the_end_reads_empty(pg_server: ServerProcess) -> None:
    """The client knows the server's 416 by name: a tail at the end of the file is empty, a
    ranged request past it raises :class:`RangeNotSatisfiableError` with the file's size."""
    run = Experiment(Workspace(tracking_uri=pg_server.url), "tails").start_logging(outputs=False)
    run.upload_file("logs/out.txt", io.BytesIO(b"0123456789"))
    with run._backend.open_file(run.id, "logs/out.txt", offset=4) as tail:
        assert tail.read() == b"456789"
    for offset in (10, 25):
        with run._backend.open_file(run.id, "logs/out.txt", offset=offset) as tail:
            assert tail.read() == b""
    http = HttpClient(pg_server.url)
    try:
        with pytest.raises(RangeNotSatisfiableError) as refused:
            http.send("GET", f"/runs/{run.id}/files/logs/out.txt", headers={"Range": "bytes=10-"})
    finally:
        http.close()
    assert refused.value.fields["size"] == 10 and refused.value.fields["http_status"] == 416
    assert RangeNotSatisfiableError.status_code == 416
    assert issubclass(RangeNotSatisfiableError, RunhistoryError)


def test_ui_starts_a_server_on_the_workspace(tmp_path: Path) -> None:
    command = [str(Path(sys.executable).with_name("runhistory")), "ui", "--no-browser",
               "--port", "0", "-w", str(tmp_path / "ws")]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line
        url = found.group(0).rstrip("/")
        wait_until_up(f"{url}/healthz", process)
        assert httpx.get(f"{url}/api/v1/experiments").json()["items"] == []
    finally:
        stop(process)
