"""The spool sender's kept-alive ``http.client`` connection: when the server closes it after
storing a batch but before answering, the batch is sent once more on a new connection and
stored exactly once (its batch id makes the second time a no-op). A real ``runhistory server``
sits behind a relay on loopback that hangs up, unanswered, on the first batch request it
receives on a reused connection."""

from __future__ import annotations

import gzip
import http.client
import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runhistory import Experiment, Run, Workspace
from support.services import ServerProcess, server_on

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class _Relay(ThreadingHTTPServer):
    """Forwards every request to ``upstream``; records the batch ids of the batch requests."""

    daemon_threads = True

    def __init__(self, upstream: ServerProcess) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream = upstream
        self.batch_ids: Counter[str] = Counter()
        self.batch_requests = 0
        self.hung_up = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps the client's connection alive between requests
    server: _Relay
    requests_on_connection = 0

    def _forward(self) -> None:
        self.requests_on_connection += 1
        assert "chunked" not in self.headers.get("Transfer-Encoding", "")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream.port, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            content = answer.read()
        finally:
            upstream.close()
        if self.path.endswith("/batches") and self.command == "POST":
            with self.server.lock:
                self.server.batch_requests += 1
                self.server.batch_ids.update(_batch_ids(body))
                if self.requests_on_connection > 1 and not self.server.hung_up:
                    self.server.hung_up += 1  # stored upstream; the client hears nothing
                    self.close_connection = True
                    return
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in _HOP_BY_HOP | {"date", "server"}:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads the relay's counts, not its log."""


def _batch_ids(body: bytes) -> list[str]:
    raw = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
    return [str(batch["batch_id"]) for batch in json.loads(raw)["batches"]]


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[tuple[_Relay, ServerProcess]]:
    """A real server on SQLite and the relay in front of it."""
    with server_on("sqlite", tmp_path, "rh_resend") as server:
        relay = _Relay(server)
        thread = threading.Thread(target=relay.serve_forever, daemon=True)
        thread.start()
        try:
            yield relay, server
        finally:
            relay.shutdown()
            relay.server_close()
            thread.join()


def test_a_batch_unanswered_on_a_kept_alive_connection_is_resent_and_stored_once(
    relay: tuple[_Relay, ServerProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    front, server = relay
    run = Experiment(Workspace(tracking_uri=front.url), "resend").start_logging(outputs=False)
    poster = run._backend.http._poster  # type: ignore[attr-defined]
    assert poster is not None  # the plain connection, not httpx
    posts = []
    post = poster.post

    def counted(*args: object, **kwargs: object) -> object:
        posts.append(args[0])
        return post(*args, **kwargs)

    monkeypatch.setattr(poster, "post", counted)
    for value in (1.0, 2.0, 3.0):
        run.log("loss", value)
        run.flush()
    run.complete()

    assert front.hung_up == 1
    # the resend happened within one post(), on a new connection (no retry of the sender)
    assert front.batch_requests == len(posts) + 1
    assert [count for count in front.batch_ids.values() if count > 1] == [2]
    stored = Run.get(Workspace(tracking_uri=server.url), run.id)
    assert stored.get_metrics()["loss"] == [1.0, 2.0, 3.0]
    assert stored.get_status() == "Completed"
