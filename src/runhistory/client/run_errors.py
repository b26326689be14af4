"""Errors of values and changes the store refused, kept per run until that run flushes.

The writer thread (and the remote sender) store the values of every run of a process; when
something is refused, the error belongs to the run that owned it: that run's ``flush()`` or
``complete()`` raises it, never another run's. A flush of the whole queue (a workspace being
closed, the interpreter exiting) takes the errors of every run.
"""

from __future__ import annotations

import threading

from runhistory.errors import RunhistoryError

MAX_KEPT = 100  # errors kept per run; beyond, they are only counted


class RunErrors:
    """Refusals by run id (``None``: a refusal no run can be named for)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._errors: dict[str | None, list[RunhistoryError]] = {}
        self._dropped: dict[str | None, int] = {}

    def add(self, run_id: str | None, error: RunhistoryError) -> None:
        """Keep ``error`` for ``run_id`` (named in its fields too)."""
        if run_id is not None:
            error.fields.setdefault("run_id", run_id)
        with self._lock:
            kept = self._errors.setdefault(run_id, [])
            if len(kept) < MAX_KEPT:
                kept.append(error)
            else:
                self._dropped[run_id] = self._dropped.get(run_id, 0) + 1

    def __bool__(self) -> bool:
        return bool(self._errors)

    def take(self, run_id: str | None = None, every_run: bool = False) -> list[RunhistoryError]:
        """Remove and return the errors of ``run_id`` (and those of no run), or of every run.

        Each returned error counts, in its message, the further errors of its run.
        """
        with self._lock:
            if every_run:
                owners = list(self._errors)
            else:
                owners = [owner for owner in (run_id, None) if owner in self._errors]
            taken = []
            for owner in owners:
                errors = self._errors.pop(owner)
                more = len(errors) - 1 + self._dropped.pop(owner, 0)
                if more:
                    errors[0].message += f" (and {more} more refused values or changes)"
                taken.append(errors[0])
            return taken

    def raise_for(self, run_id: str | None = None, every_run: bool = False) -> None:
        """Raise the first error of ``run_id`` (or of any run), if there is one."""
        if not self._errors:
            return
        taken = self.take(run_id, every_run)
        if not taken:
            return
        first = taken[0]
        if len(taken) > 1:
            first.message += f"; {len(taken) - 1} more runs had values refused"
        raise first
