"""The spool sender compresses a request body only from ``GZIP_MINIMUM`` bytes on."""

from __future__ import annotations

import gzip
import json
from typing import Any

from runhistory.client.sender import GZIP_MINIMUM, BatchSender
from runhistory.client.spool import SpooledBatch


class _Recorder:
    """Stands for the HTTP client: keeps what would be posted, answers "stored"."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes, dict[str, str]]] = []

    def post_bytes(
        self, path: str, content: bytes, headers: dict[str, str], timeout: float | None = None
    ) -> Any:
        self.posts.append((path, content, headers))
        count = len(json.loads(_plain(content, headers))["batches"])
        return {"results": [{"stored": True, "errors": []}] * count}


def _plain(content: bytes, headers: dict[str, str]) -> bytes:
    return gzip.decompress(content) if headers.get("Content-Encoding") == "gzip" else content


def _batch(size: int) -> SpooledBatch:
    data = json.dumps({"batch_id": "b", "run_ids": ["r"], "changes": {"x": "y" * size}})
    return SpooledBatch("unused", 0, data.encode(), changes=True, run_ids=("r",))


def test_a_small_request_goes_out_uncompressed() -> None:
    recorder = _Recorder()
    BatchSender(recorder).send([_batch(7000)])  # type: ignore[arg-type]
    path, content, headers = recorder.posts[0]
    assert path == "/changes/batches"
    assert "Content-Encoding" not in headers
    assert json.loads(content)["batches"][0]["changes"]["x"] == "y" * 7000


def test_a_big_request_goes_out_gzip_compressed() -> None:
    recorder = _Recorder()
    BatchSender(recorder).send([_batch(GZIP_MINIMUM), _batch(10)])  # type: ignore[arg-type]
    _, content, headers = recorder.posts[0]
    assert headers["Content-Encoding"] == "gzip"
    assert len(json.loads(gzip.decompress(content))["batches"]) == 2
