"""``python -m runhistory.hyperdrive.controller RUN_ID``: runs one sweep to its end.

Started detached by :func:`~runhistory.hyperdrive.submission.submit_sweep`. It extracts the
sweep's snapshot once, then, every half second until the sweep is done:

1. obeys a cancel of the parent (cancels every active child, then ends Canceled);
2. notes the children that finished and tells the sampler their primary metric;
3. lets the early-termination policy look at each running child's new primary-metric values;
4. starts new children while fewer than ``max_concurrent_runs`` are active and fewer than
   ``max_total_runs`` were started (a grid also stops when every combination was tried);
5. beats the parent's heartbeat and uploads its log (``logs/hyperdrive.txt``).

The parent ends Completed (Failed if every child failed) with ``best_child_run_id`` among its
properties.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
import zipfile
from dataclasses import dataclass
from typing import Any

from runhistory import settings
from runhistory.compute import reconcile, request_cancel
from runhistory.compute.logs import LogUploader
from runhistory.errors import InvalidTransitionError, RunhistoryError
from runhistory.hyperdrive.children import submit_child
from runhistory.hyperdrive.policy import TruncationSelectionPolicy, policy_from_json
from runhistory.hyperdrive.submission import CHILD_DEFINITION, SWEEP, controller_directory
from runhistory.hyperdrive.suggest import Suggester
from runhistory.tracking import status as st
from runhistory.tracking.entities import RunInfo

_POLL = 0.5
_MAX_POINTS = 100_000
LOG_NAME = "logs/hyperdrive.txt"
_MOVING_ON_FROM = tuple(s for s in st.ACTIVE_STATUSES if s != st.CANCEL_REQUESTED)


@dataclass
class Child:
    """What the controller remembers of one child."""

    run_id: str
    trial: int
    status: str = st.QUEUED
    evaluated: int = 0
    stopped_by_policy: bool = False


class Controller:
    """Drives one sweep: samples, starts, watches and stops its children."""

    def __init__(self, backend: Any, location: Any, run_id: str) -> None:
        self.backend = backend
        self.location = location
        self.run_id = run_id
        self.parent: RunInfo = backend.get_run(run_id)
        definition = dict(self.parent.run_definition or {})
        self.sweep: dict[str, Any] = definition[SWEEP]
        self.child_definition: dict[str, Any] = definition[CHILD_DEFINITION]
        self.metric: str = self.sweep["primary_metric_name"]
        self.maximize = self.sweep["primary_metric_goal"] == "MAXIMIZE"
        self.policy = policy_from_json(self.sweep.get("policy"))
        self.suggester = Suggester(self.sweep["sampling"], self.maximize)
        self.children: dict[str, Child] = {}
        self.series: dict[str, list[float]] = {}
        self.folder = controller_directory(run_id)
        os.makedirs(self.folder, exist_ok=True)
        log_path = os.path.join(self.folder, "hyperdrive.txt")
        self._log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())
        self.uploader = LogUploader(backend, run_id, log_path, LOG_NAME)

    # ---- the whole sweep ------------------------------------------------------------------
    def run(self) -> None:
        """Run the sweep to a terminal status of the parent."""
        if self._set(st.RUNNING, expected=_MOVING_ON_FROM):
            self._sweep(self._extract_source())
        else:
            self._set(st.CANCELED)

    def close(self) -> None:
        """Upload the sweep's log a last time and close it."""
        try:
            self.uploader.upload(force=True)
        finally:
            self._log.close()

    def _sweep(self, source: str) -> None:
        limit = float(self.sweep["max_duration_minutes"]) * 60
        deadline = time.monotonic() + limit
        total = int(self.sweep["max_total_runs"])
        concurrent = int(self.sweep["max_concurrent_runs"])
        beat_every = float(settings.get("RUNHISTORY_HEARTBEAT_INTERVAL"))
        next_beat = 0.0
        self.say(f"sweep of up to {total} runs, {concurrent} at a time, on {self.metric!r}")
        while True:
            if self._cancel_asked():
                self._stop_all("the sweep was canceled")
                self._set(st.CANCELED)
                return
            self._refresh_children()
            self._apply_policy()
            if time.monotonic() > deadline:
                self._stop_all(f"the sweep reached max_duration_minutes={limit / 60:g}")
                self._finish()
                return
            while len(self._active()) < concurrent and len(self.children) < total:
                self._start_child(source)
            if not self._active() and len(self.children) >= total:
                self._finish()
                return
            if time.monotonic() >= next_beat:
                self.backend.heartbeat(self.run_id)
                self.uploader.upload()
                next_beat = time.monotonic() + beat_every
            time.sleep(_POLL)

    # ---- children -------------------------------------------------------------------------
    def _active(self) -> list[Child]:
        return [c for c in self.children.values() if not st.is_terminal(c.status)]

    def _start_child(self, source: str) -> None:
        trial = self.suggester.ask()
        index = len(self.children)
        info = submit_child(
            self.backend,
            self.location,
            self.parent,
            index,
            trial.values,
            source,
            self.child_definition,
        )
        self.children[info.run_id] = Child(info.run_id, trial.number, info.status)
        self.series[info.run_id] = []
        self.say(f"started {info.run_id} with {trial.values}")

    def _refresh_children(self) -> None:
        active = self._active()
        if not active:
            return
        for found in self.backend.get_metric_series(
            [c.run_id for c in self.children.values()], [self.metric], max_points=_MAX_POINTS
        ):
            self.series[found.run_id] = list(found.y)
        for child in active:
            info = reconcile(self.backend, self.backend.get_run(child.run_id))
            child.status = info.status
            if st.is_terminal(info.status):
                self._finished(child, info)

    def _finished(self, child: Child, info: RunInfo) -> None:
        values = self.series.get(child.run_id) or []
        last = values[-1] if values and info.status != st.FAILED else None
        self.suggester.tell(child.trial, last, pruned=child.stopped_by_policy)
        self.say(f"{child.run_id} ended {info.status}; last {self.metric}: {last}")

    def _apply_policy(self) -> None:
        if isinstance(self.policy, TruncationSelectionPolicy):
            self.policy.finished = frozenset(
                c.run_id for c in self.children.values() if st.is_terminal(c.status)
            )
        for child in self._active():
            values = self.series.get(child.run_id) or []
            for interval in range(child.evaluated + 1, len(values) + 1):
                if not self.policy.due(interval):
                    continue
                reason = self.policy.check(child.run_id, interval, self.series, self.maximize)
                if reason is not None:
                    self._terminate(child, reason)
                    break
            child.evaluated = len(values)

    def _terminate(self, child: Child, reason: str) -> None:
        """Cancel a child, with ``reason`` kept as its error details."""
        error = {"message": reason, "code": "EarlyTermination"}
        try:
            info = self.backend.set_status(child.run_id, st.CANCEL_REQUESTED, error=error)
            request_cancel(self.backend, info)
        except InvalidTransitionError:
            return  # it finished meanwhile
        child.stopped_by_policy = True
        self.say(f"canceling {child.run_id}: {reason}")

    def _stop_all(self, reason: str) -> None:
        """Cancel every active child and wait (a bounded time) until they have ended."""
        for child in self._active():
            self._terminate(child, reason)
        grace = float(settings.get("RUNHISTORY_CANCEL_GRACE_SECONDS"))
        deadline = time.monotonic() + grace + 10
        while self._active() and time.monotonic() < deadline:
            time.sleep(0.2)
            self._refresh_children()

    # ---- the parent -------------------------------------------------------------------------
    def _finish(self) -> None:
        best = self._best_child()
        if best is not None:
            self.backend.add_run_properties(self.run_id, {"best_child_run_id": best})
        statuses = [c.status for c in self.children.values()]
        if statuses and all(s == st.FAILED for s in statuses):
            first = self.backend.get_run(next(iter(self.children))).error or {}
            message = f"every child run failed; the first: {first.get('message', 'no details')}"
            self._set(st.FAILED, error={"message": message, "code": "UserError"})
            return
        self._set(st.COMPLETED)

    def _best_child(self) -> str | None:
        scored = {rid: values for rid, values in self.series.items() if values}
        if not scored:
            return None
        pick = max if self.maximize else min
        return pick(scored, key=lambda rid: pick(scored[rid]))

    def _cancel_asked(self) -> bool:
        status = self.backend.get_run(self.run_id).status
        return status in (st.CANCEL_REQUESTED, st.CANCELED)

    def _set(
        self,
        status: str,
        error: dict[str, Any] | None = None,
        expected: tuple[str, ...] | None = None,
    ) -> bool:
        try:
            self.backend.set_status(self.run_id, status, error=error, expected=expected)
        except InvalidTransitionError:
            return False
        self.say(f"sweep {status}")
        return True

    def _extract_source(self) -> str:
        if self.parent.snapshot_id is None:
            raise RunhistoryError(f"sweep {self.run_id!r} has no snapshot to run")
        archive = os.path.join(self.folder, "snapshot.zip")
        self.backend.restore_snapshot_zip(self.parent.snapshot_id, archive)
        source = os.path.join(self.folder, "source")
        with zipfile.ZipFile(archive) as opened:
            for member in opened.infolist():
                path = opened.extract(member, source)
                mode = (member.external_attr >> 16) & 0o777
                if mode:
                    os.chmod(path, mode)
        os.remove(archive)
        return source

    def say(self, text: str) -> None:
        """A line in the sweep's log."""
        self._log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")
        self._log.flush()

    def fail(self, exc: BaseException) -> None:
        """End the sweep Failed after an error of the controller itself."""
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        print(text, file=sys.stderr, flush=True)
        for child in self._active():
            self._terminate(child, "the sweep's controller failed")
        message = str(exc) if isinstance(exc, RunhistoryError) else f"{type(exc).__name__}: {exc}"
        self._set(
            st.FAILED,
            error={"message": f"the sweep failed: {message}", "code": "SystemError"},
        )


def main(argv: list[str]) -> int:
    """Entry point: control sweep ``argv[0]`` in the workspace named by the environment."""
    if len(argv) != 1:
        print("usage: python -m runhistory.hyperdrive.controller RUN_ID", file=sys.stderr)
        return 2
    from runhistory.client.backend import connect

    connection = connect(
        settings.get("RUNHISTORY_TRACKING_URI"), settings.get("RUNHISTORY_ARTIFACT_LOCATION")
    )
    try:
        controller = Controller(connection.backend, connection.location, argv[0])
    except BaseException as exc:
        error = {"message": f"the sweep could not start: {exc}", "code": "SystemError"}
        connection.backend.set_status(argv[0], st.FAILED, error=error)
        raise
    try:
        controller.run()
    except BaseException as exc:
        controller.fail(exc)
        return 1
    finally:
        controller.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
