"""The last lines of a run's log (not all of it), read again only when the file grew."""

from __future__ import annotations

from typing import Any

from runhistory.errors import NotFoundError
from runhistory.widgets.source import RunSource

LOG_PREFIX = "logs/"
PREFERRED_LOG = "logs/std_log.txt"
TAIL_BYTES = 64 * 1024  # enough for the last lines; a log of gigabytes costs the same
TAIL_LINES = 200


class LastLines:
    """Follows one run's main log (``logs/std_log.txt``, else the first file under ``logs/``)."""

    def __init__(self, source: RunSource, run_id: str) -> None:
        self._source = source
        self._run_id = run_id
        self._seen: tuple[str, int] | None = None
        self._state: dict[str, Any] = {"name": "", "text": "", "size": 0}

    def read(self) -> dict[str, Any]:
        """``{"name", "text", "size"}``: the log's name, its last lines, its size in bytes."""
        files = self._source.list_files(self._run_id, prefix=LOG_PREFIX)
        chosen = next((f for f in files if f.name == PREFERRED_LOG), files[0] if files else None)
        if chosen is None or self._seen == (chosen.name, chosen.size):
            return self._state
        try:
            text = self._tail(chosen.name, chosen.size)
        except NotFoundError:  # deleted meanwhile: keep what was shown
            return self._state
        self._seen = (chosen.name, chosen.size)
        self._state = {"name": chosen.name, "text": text, "size": chosen.size}
        return self._state

    def _tail(self, name: str, size: int) -> str:
        start = max(0, size - TAIL_BYTES)
        with self._source.open_file(self._run_id, name, start) as handle:  # a Range request
            data = handle.read(size - start)
        lines = terminal_lines(data.decode("utf-8", errors="replace"))
        if start and lines:
            lines = lines[1:]  # the first line was cut by the seek
        return "\n".join(lines[-TAIL_LINES:])


def terminal_lines(text: str) -> list[str]:
    """Lines as a terminal shows them: a bar redrawn with ``\\r`` keeps its last state."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines]
