"""Downloads that honour an HTTP ``Range`` (RFC 9110): one byte range, streamed.

A request without ``Range`` gets the whole file (200); ``bytes=a-b``, ``bytes=a-`` and
``bytes=-n`` get that part (206 with ``Content-Range``); a range that starts past the end is
refused with 416 and ``Content-Range: bytes */<size>``. A ``Range`` of other units or of
several ranges is ignored, as the RFC allows: the whole file is sent. Every answer says
``Accept-Ranges: bytes``. The bytes come from the store a chunk at a time (an S3 store is asked
for the range itself), never read whole into memory.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from starlette.responses import Response, StreamingResponse

from runhistory.errors import RangeNotSatisfiableError, RunhistoryError

CHUNK = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
Opener = Callable[[int, int], BinaryIO]  # (first byte, length) -> a stream of them
Refusal = Callable[[RunhistoryError, dict[str, str]], Response]


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte ``header`` asks of a file of ``size`` bytes (``None``: the
    whole file).

    Raises:
        RangeNotSatisfiableError: the range holds no byte of the file.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or match.group(0) == "bytes=-":
        return None  # not a single byte range: ignored
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        raise RangeNotSatisfiableError(
            f"range {header!r} is outside the file of {size} bytes", size=size
        )
    return start, end


def ranged_response(
    header: str | None, size: int, open_range: Opener, media_type: str, refuse: Refusal
) -> Response:
    """The answer to a download of ``size`` bytes with the ``Range`` ``header``: the whole
    file or the part asked, read through ``open_range``; ``refuse`` renders a 416."""
    try:
        span = byte_range(header, size)
    except RangeNotSatisfiableError as exc:
        refused = refuse(exc, {"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"})
        refused.status_code = 416
        return refused
    start, end = span if span is not None else (0, size - 1)
    length = end - start + 1
    stream = open_range(start, length) if length > 0 else io.BytesIO(b"")
    headers = {"Content-Length": str(length), "Accept-Ranges": "bytes"}
    if span is None:
        return StreamingResponse(
            stream_chunks(stream, length), media_type=media_type, headers=headers
        )
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    body = stream_chunks(stream, length)
    return StreamingResponse(body, status_code=206, media_type=media_type, headers=headers)


def stream_chunks(stream: BinaryIO, remaining: int) -> Iterator[bytes]:
    """At most ``remaining`` bytes of ``stream`` a chunk at a time; closes it."""
    try:
        while remaining > 0:
            chunk = stream.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        stream.close()


__all__ = ["byte_range", "ranged_response", "stream_chunks"]
