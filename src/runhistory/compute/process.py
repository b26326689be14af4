"""The job's own process: started in its own process group, stdout and stderr captured.

Both streams are appended to one log file as they arrive (read in chunks, so progress output
without newlines shows up too); the last bytes of stderr are kept for the error message.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import BinaryIO

from runhistory.compute.processes import signal_group

_TAIL_BYTES = 4096
_CHUNK = 65536


class JobProcess:
    """A running job; ``poll()`` like ``Popen``, ``stop()`` to end it with its children."""

    def __init__(self, argv: Sequence[str], cwd: str, env: dict[str, str], log_path: str) -> None:
        self._log: BinaryIO = open(log_path, "ab")  # noqa: SIM115 (closed in finish())
        self._lock = threading.Lock()
        self._stderr_tail = b""
        self.process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self._pumps = [
            threading.Thread(target=self._pump, args=(self.process.stdout, False), daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stderr, True), daemon=True),
        ]
        for pump in self._pumps:
            pump.start()

    @property
    def pid(self) -> int:
        """The job's pid (also its process group id)."""
        return self.process.pid

    def poll(self) -> int | None:
        """The exit code, or None while it runs."""
        return self.process.poll()

    def _pump(self, stream: BinaryIO, is_stderr: bool) -> None:
        fd = stream.fileno()
        while True:
            try:
                chunk = os.read(fd, _CHUNK)
            except OSError:
                break
            if not chunk:
                break
            with self._lock:
                self._log.write(chunk)
                self._log.flush()
                if is_stderr:
                    self._stderr_tail = (self._stderr_tail + chunk)[-_TAIL_BYTES:]
        stream.close()

    def stop(self, grace_seconds: float) -> int:
        """SIGTERM the job's process group, SIGKILL it after ``grace_seconds``; the exit code."""
        signal_group(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.poll() is None:
            signal_group(self.pid, signal.SIGKILL)
        return self.process.wait()

    def finish(self) -> None:
        """After exit: end leftover children of the job, drain the streams, close the log."""
        signal_group(self.pid, signal.SIGKILL)
        for pump in self._pumps:
            pump.join(timeout=5)
        with self._lock:
            self._log.close()

    def stderr_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines the job wrote to stderr."""
        text = self._stderr_tail.decode("utf-8", errors="replace")
        return "\n".join(text.rstrip().splitlines()[-lines:])
