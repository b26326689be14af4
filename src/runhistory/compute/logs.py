"""Getting a job's log files into the run's files while the job runs.

The artifact store has no append, so the growing local file is uploaded whole whenever it has
grown (uploads are atomic renames, so a reader never sees half a file).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from runhistory.compute.base import LOG_FILE
from runhistory.errors import NotFoundError, RunhistoryError

PREPARE_LOG_FILE = "logs/prepare_log.txt"


def read_job_log(backend: Any, run_id: str) -> str:
    """The run's ``logs/std_log.txt`` so far (empty before the job starts)."""
    try:
        with backend.open_file(run_id, LOG_FILE) as handle:
            data: bytes = handle.read()
    except NotFoundError:
        return ""
    return data.decode("utf-8", errors="replace")


_BYTES_PER_SECOND = 10_000_000  # a big log is re-uploaded less often: ~1 s per 10 MB


class LogUploader:
    """Uploads ``path`` as run file ``name`` when it has changed size (big files less often)."""

    def __init__(self, backend: Any, run_id: str, path: str, name: str) -> None:
        self.backend = backend
        self.run_id = run_id
        self.path = path
        self.name = name
        self._uploaded_size = -1
        self._uploaded_at = 0.0

    def upload(self, force: bool = False) -> None:
        """Upload if the file grew; errors are reported unless ``force`` (the final upload)."""
        try:
            size = os.path.getsize(self.path)
        except OSError:
            return
        if size == self._uploaded_size:
            return
        if not force and time.monotonic() - self._uploaded_at < size / _BYTES_PER_SECOND:
            return
        try:
            self.backend.upload_file(self.run_id, self.name, self.path)
        except RunhistoryError:
            if force:
                raise
            print(f"supervisor: could not upload {self.name} yet", file=sys.stderr, flush=True)
            return
        self._uploaded_size = size
        self._uploaded_at = time.monotonic()


class PrepareLog:
    """A timestamped log of the preparation step, uploaded as ``logs/prepare_log.txt``."""

    def __init__(self, backend: Any, run_id: str, path: str) -> None:
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())
        self._uploader = LogUploader(backend, run_id, path, PREPARE_LOG_FILE)

    def write(self, text: str) -> None:
        """Append lines (each stamped with the time) and upload."""
        if self._handle.closed:
            return
        stamp = time.strftime("%H:%M:%S")
        for line in text.splitlines() or [""]:
            self._handle.write(f"{stamp} {line}\n")
        self._handle.flush()
        self._uploader.upload()

    def close(self) -> None:
        """Close and upload the final file."""
        if not self._handle.closed:
            self._handle.close()
            try:
                self._uploader.upload(force=True)
            except RunhistoryError as exc:
                print(f"supervisor: could not upload {PREPARE_LOG_FILE}: {exc}", file=sys.stderr)
