"""The harness: runs workers in fresh processes, alternates the sides, collects rows.

The sides are runhistory, MLflow and Aim (the peers each in their own venv).

Nothing may hang the whole benchmark: every repetition of a side has a time limit (generous,
given by the workload for its size; ``--timeout-scale`` / ``RHBENCH_TIMEOUT_SCALE`` multiplies
it, ``--timeout`` / ``RHBENCH_TIMEOUT`` replaces it). A worker runs in a process group of its own
with its output going to files (never a pipe nobody reads); when the limit passes, the harness
kills the process groups it started in that repetition, the cell says "timed out", the error
list says which process was still running, in what state, and what the logs ended with, and
the benchmark goes on with the next row.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rhbench.common import ABORT, GO, RESULT_MARK, median

BENCH_DIR = Path(__file__).resolve().parent.parent
RH = "runhistory"
ML = "mlflow"
AIM = "aim"
Result = dict[str, Any]


DEFAULT_TIMEOUT = {True: 600.0, False: 1800.0}  # seconds (quick, full) unless a workload says
GRACE = 60.0  # after a repetition's limit, how long harness-side waits may go on (SIGALRM)
POLL = 0.05  # seconds between looks at concurrent workers


class WorkerError(Exception):
    """A worker process failed; the message holds the end of its output."""


class TimedOut(WorkerError):
    """A worker or a repetition ran past its time limit; its process groups were killed."""


class NotAvailable(Exception):
    """A side cannot run this workload here (e.g. no server command); reported as n/a."""


@dataclass
class Row:
    """One line of the table: a measure of one workload for runhistory and its peers."""

    workload: str
    measure: str
    unit: str
    higher_is_better: bool
    rh_size: str
    ml_size: str
    storage: str
    rh: list[float] = field(default_factory=list)
    ml: list[float] = field(default_factory=list)
    rh_status: str = ""
    ml_status: str = ""
    note: str = ""
    aim: list[float] = field(default_factory=list)
    aim_size: str = ""
    aim_status: str = ""

    def median(self, side: str) -> float | None:
        """The median over repetitions of one side, or None when it has no value."""
        values = {RH: self.rh, ML: self.ml, AIM: self.aim}[side]
        return median(values) if values else None

    def advantage(self, peer: str = ML) -> float | None:
        """How many times better runhistory is than ``peer`` (above 1: runhistory wins)."""
        rh, other = self.median(RH), self.median(peer)
        if not rh or not other:
            return None
        return rh / other if self.higher_is_better else other / rh

    def status(self, side: str) -> str:
        """What a side's cell says when it has no number."""
        return {RH: self.rh_status, ML: self.ml_status, AIM: self.aim_status}[side]


@dataclass
class Settings:
    """What the harness was asked to do."""

    quick: bool
    reps: int
    only: set[str]
    mlflow_python: str | None
    mlflow_version: str
    postgres_url: str
    keep: bool = False
    aim_python: str | None = None
    aim_version: str = "not installed"
    aim_missing: str = "Aim is not installed"  # why its side is n/a when aim_python is None
    timeout: float | None = None  # seconds for every repetition, instead of the workloads' own
    timeout_scale: float = 1.0  # multiplies every time limit


@dataclass
class Worker:
    """A worker process started by :meth:`Harness.spawn`: the leader of its own process group,
    its stdout and stderr in files (read once it ended, so it never blocks on a full pipe)."""

    process: subprocess.Popen[bytes]
    label: str  # "side module.function"
    stdout: Path
    stderr: Path

    @property
    def pid(self) -> int:
        """The worker's process id (and its process group's)."""
        return self.process.pid

    def poll(self) -> int | None:
        """Its exit status, or None while it runs."""
        return self.process.poll()

    def output(self) -> tuple[str, str]:
        """What it wrote to stdout and stderr so far."""
        return _read(self.stdout), _read(self.stderr)


class Harness:
    """Runs worker functions in subprocesses and gathers the rows of the table."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rows: list[Row] = []
        self.errors: list[str] = []
        self.notes: list[str] = []
        self.raw: dict[str, dict[str, list[Result] | str]] = {}  # every worker result, by stage
        self.info: dict[str, Any] = {}
        self.corpora: dict[str, Any] = {}  # data made once and shared between stages, by side
        self._root = Path(tempfile.mkdtemp(prefix="rhbench-"))
        self._outputs = self._root / "outputs"
        self._outputs.mkdir()
        self._live: list[Worker] = []  # spawned and not yet collected
        self._workers: list[Worker] = []  # those of the current repetition
        self._deadline: float | None = None  # time.monotonic() when the repetition must end
        self._limit = 0.0  # that repetition's limit in seconds
        self._logs: list[Path] = []  # server logs of the repetition (shown when it fails)
        self.grace = GRACE  # how long harness-side waits may go on past a repetition's limit

    # ---- processes -----------------------------------------------------------------
    def python(self, side: str) -> str:
        """The interpreter of a side: this one for runhistory, the peers' venvs' for them."""
        if side == RH:
            return sys.executable
        if side == AIM:
            if self.settings.aim_python is None:
                raise NotAvailable(self.settings.aim_missing)
            return self.settings.aim_python
        if self.settings.mlflow_python is None:
            raise NotAvailable("MLflow is not installed (see the message above)")
        return self.settings.mlflow_python

    def env(self, side: str, home: Path) -> dict[str, str]:
        """A clean environment for a worker: its own home, quiet libraries, rhbench importable."""
        prefixes = ("RUNHISTORY_", "MLFLOW_", "AIM_", "__AIM_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
        env.update(
            PYTHONPATH=str(BENCH_DIR),
            PYTHONDONTWRITEBYTECODE="1",
            RUNHISTORY_HOME=str(home / "rh-home"),
            RUNHISTORY_QUIET="1",
            HOME=str(home),
            GIT_PYTHON_REFRESH="quiet",
            MLFLOW_ENABLE_ASYNC_LOGGING="false",
            # no usage reports to the outside (the peers' own telemetry threads and requests)
            MLFLOW_DISABLE_TELEMETRY="true",
            DO_NOT_TRACK="true",
            AIM_UI_TELEMETRY_ENABLED="0",
            # MLflow's client retries a failed request 7 times with backoff: about 4 minutes of
            # every process sleeping (the "idle" hang of B3 over HTTP). A failing server
            # becomes an error within seconds instead; a passing glitch is still retried.
            MLFLOW_HTTP_REQUEST_MAX_RETRIES="3",
            MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR="1",
            MLFLOW_HTTP_REQUEST_TIMEOUT="120",
            PYTHONWARNINGS="ignore",
        )
        return env

    def spawn(self, side: str, module: str, function: str, params: Result, cwd: Path) -> Worker:
        """Start one worker without waiting (for concurrent clients), in its own process group."""
        command = [self.python(side), "-m", "rhbench.worker", module, function, json.dumps(params)]
        label = f"{side} {module}.{function}"
        handle, name = tempfile.mkstemp(".out", f"{side}-{module}.{function}-", self._outputs)
        os.close(handle)
        stdout = Path(name)
        stderr = stdout.with_suffix(".err")
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env=self.env(side, cwd),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        worker = Worker(process, label, stdout, stderr)
        self._live.append(worker)
        if self._deadline is not None:
            self._workers.append(worker)
        return worker

    def adopt(
        self, process: subprocess.Popen[bytes], label: str, log: Path, lasting: bool = False
    ) -> Worker:
        """Count a process the caller started in a session of its own (a server) among the
        repetition's: killed with its group at the repetition's end or an interruption, if its
        caller could not stop it.

        ``lasting``: the process serves later repetitions too (a server started by the first
        and stopped by its caller after the last): killed only by :meth:`cleanup` or
        :meth:`kill_all` if its caller could not stop it.
        """
        worker = Worker(process, label, log, log)
        self._live.append(worker)
        if self._deadline is not None and not lasting:
            self._workers.append(worker)
        return worker

    def collect(self, worker: Worker, timeout: float | None = None) -> Result:
        """Wait for a worker and return its result, or raise :class:`WorkerError`.

        It waits at most ``timeout`` seconds (scaled; by default the repetition's time left,
        outside a repetition the default limit), then kills the worker's process group and
        raises :class:`TimedOut`.
        """
        limit = self.time_left(timeout)
        try:
            worker.process.wait(limit)
        except subprocess.TimeoutExpired:
            self.kill(worker)
            what = f"{worker.label} still running after {limit:.0f} s of waiting for it"
            raise TimedOut(self._timed_out(what, [worker])) from None
        finally:
            if worker.poll() is not None and worker in self._live:
                self._live.remove(worker)
        return _result(worker)

    def collect_all(self, workers: list[Worker], timeout: float | None = None) -> list[Result]:
        """Wait for concurrent workers; their results in order.

        The first worker to fail ends the wait at once: the others are killed (they may wait
        on it) and its error is raised. Past the time limit every worker still running is
        killed and :class:`TimedOut` names them.
        """
        limit = self.time_left(timeout)
        deadline = time.monotonic() + limit
        pending = list(workers)
        while pending:
            for worker in [w for w in pending if w.poll() is not None]:
                pending.remove(worker)
                try:
                    self.collect(worker)
                except WorkerError:
                    self.kill(*pending)
                    raise
            if pending and time.monotonic() > deadline:
                message = self._timed_out(
                    f"{len(pending)} of {len(workers)} {pending[0].label} workers still "
                    f"running after {limit:.0f} s of waiting for them",
                    pending,
                )
                self.kill(*pending)
                raise TimedOut(message)
            if pending:
                time.sleep(POLL)
        return [self.collect(w) for w in workers]

    def start_together(self, folder: Path, workers: list[Worker], timeout: float = 300.0) -> None:
        """Touch ``go`` in ``folder`` once every worker touched its ``ready-N`` there
        (:func:`rhbench.common.wait_for_start`).

        If a worker ends before, or they are not all ready within ``timeout`` (scaled, at most
        the repetition's time left), touch ``abort`` so none waits for the others, kill them
        and raise the error of the one that ended (or :class:`TimedOut`).
        """
        limit = self.time_left(timeout)
        deadline = time.monotonic() + limit
        while len(list(folder.glob("ready-*"))) < len(workers):
            ended = [w for w in workers if w.poll() is not None]
            if ended or time.monotonic() > deadline:
                (folder / ABORT).touch()
                if ended:
                    running = [w for w in workers if w not in ended]
                    self.kill(*running)
                    self.collect(ended[0])  # raises its error unless it succeeded early
                    raise WorkerError(f"{ended[0].label} ended before the start")
                message = self._timed_out(
                    f"{len(workers) - len(list(folder.glob('ready-*')))} of {len(workers)} "
                    f"{workers[0].label} workers not ready after {limit:.0f} s of waiting "
                    "for their start",
                    workers,
                )
                self.kill(*workers)
                raise TimedOut(message)
            time.sleep(0.01)
        (folder / GO).touch()

    def kill(self, *workers: Worker) -> None:
        """SIGKILL the process groups of ``workers`` (each its own: exactly the processes the
        harness started and what they started, also what a finished worker left running)
        and reap them."""
        for worker in workers:
            if worker.poll() is None or group_pids(worker.pid):
                try:
                    os.killpg(worker.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                worker.process.wait(10)
            except subprocess.TimeoutExpired:
                _progress(f"WARNING {worker.label} (pid {worker.pid}) survived SIGKILL")
            if worker in self._live:
                self._live.remove(worker)

    def kill_all(self) -> None:
        """Kill every worker the harness started that still runs (an interrupted benchmark)."""
        self.kill(*self._live)

    def watch_log(self, path: Path) -> None:
        """Show the end of ``path`` (a server's log) when the current repetition fails."""
        if self._deadline is not None:
            self._logs.append(path)

    def time_left(self, seconds: float | None = None) -> float:
        """How long a wait may last: ``seconds`` scaled (default: the default limit), and never
        past the current repetition's limit (at least a second)."""
        limit = self.scaled(seconds if seconds is not None else self.default_timeout())
        if self._deadline is not None:
            limit = min(limit, self._deadline - time.monotonic())
        return max(limit, 1.0)

    def default_timeout(self) -> float:
        """The limit of a repetition (or a call outside one) whose workload names none."""
        return DEFAULT_TIMEOUT[self.settings.quick]

    def scaled(self, seconds: float) -> float:
        """A time limit multiplied by the scale the user chose."""
        return seconds * self.settings.timeout_scale

    def call(
        self,
        side: str,
        module: str,
        function: str,
        params: Result,
        cwd: Path | None = None,
        timeout: float | None = None,
    ) -> Result:
        """Run one worker function in a fresh process and return what it returned."""
        folder = cwd if cwd is not None else self.scratch(f"{module}-{function}")
        return self.collect(self.spawn(side, module, function, params, folder), timeout)

    # ---- folders ---------------------------------------------------------------------
    def scratch(self, name: str) -> Path:
        """A new empty folder under the harness's temporary root."""
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self._root))
        return path

    def cleanup(self) -> None:
        """Kill what still runs; delete every scratch folder (unless asked to keep them)."""
        self.kill_all()
        if not self.settings.keep:
            shutil.rmtree(self._root, ignore_errors=True)

    # ---- repetitions -----------------------------------------------------------------
    def alternate(
        self,
        label: str,
        sides: Mapping[str, Callable[[int], Result]],
        reps: int | None = None,
        timeout: float | Mapping[str, float] | None = None,
    ) -> dict[str, list[Result] | str]:
        """Run each side's measurement ``reps`` times, alternating which side goes first.

        ``timeout``: seconds one repetition of a side may take at this size (generous; one
        number or one per side; default :meth:`default_timeout`), scaled by the settings.
        Returns, per side, the list of results or a status string ("n/a: …", "error: …",
        "timed out …"). A side that failed or timed out is not run again.
        """
        count = reps if reps is not None else self.settings.reps
        results: dict[str, list[Result] | str] = {side: [] for side in sides}
        for rep in range(count):
            order = list(sides) if rep % 2 == 0 else list(sides)[::-1]
            for side in order:
                done = results[side]
                if isinstance(done, str):
                    continue
                base = timeout.get(side) if isinstance(timeout, Mapping) else timeout
                limit = self.repetition_limit(base)
                results[side] = self._measure(label, side, sides[side], rep, done, limit)
        self.raw[label] = results
        return results

    def repetition_limit(self, seconds: float | None) -> float:
        """The time limit of one repetition: ``--timeout`` if given, else the workload's
        ``seconds`` (or the default), times ``--timeout-scale``."""
        chosen = self.settings.timeout or seconds or self.default_timeout()
        return self.scaled(chosen)

    def _measure(
        self,
        label: str,
        side: str,
        measure: Callable[[int], Result],
        rep: int,
        done: list[Result],
        limit: float,
    ) -> list[Result] | str:
        started = time.perf_counter()
        try:
            with self.repetition(limit):
                done.append(measure(rep))
        except NotAvailable as exc:
            _progress(f"{label} {side}: n/a ({exc})")
            return f"n/a: {exc}"
        except TimedOut as exc:
            message = f"{label} {side} rep {rep + 1}: timed out (limit {limit:.0f} s): {exc}"
            self.errors.append(message)
            _progress("ERROR " + message)
            return f"timed out after {time.perf_counter() - started:.0f} s (limit {limit:.0f} s)"
        except Exception as exc:  # any failure becomes an error cell, never a crash
            message = f"{label} {side}: {type(exc).__name__}: {exc}"
            self.errors.append(message)
            _progress("ERROR " + message)
            last = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            return f"error: {last[:60]}"
        _progress(f"{label} {side} rep {rep + 1}: {time.perf_counter() - started:.1f} s")
        return done

    @contextmanager
    def repetition(self, limit: float) -> Iterator[None]:
        """One repetition of a side: at most ``limit`` seconds.

        Waits on workers end at the limit (:class:`TimedOut`); a wait of the harness's own that
        goes on :attr:`grace` seconds past it is interrupted by SIGALRM (main thread only). At the
        end, every worker started in it and still running is killed. Nested: the outer limit
        holds.
        """
        if self._deadline is not None:  # inside another repetition
            yield
            return
        self._deadline, self._limit, self._logs, self._workers = (
            time.monotonic() + limit, limit, [], []
        )  # fmt: skip
        alarm = threading.current_thread() is threading.main_thread()
        if alarm:
            previous = signal.signal(signal.SIGALRM, self._alarm) or signal.SIG_DFL
            signal.setitimer(signal.ITIMER_REAL, limit + self.grace)
        try:
            yield
        finally:
            try:
                if alarm:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    signal.signal(signal.SIGALRM, previous)
            finally:  # even if the alarm went off just now
                self._deadline = None
                workers, self._workers = self._workers, []
                self.kill(*workers)  # what still runs, and what finished workers left

    def _alarm(self, signum: int, frame: Any) -> None:
        del signum, frame
        what = (
            f"the harness itself still waited {self.grace:.0f} s past the {self._limit:.0f} s limit"
        )
        raise TimedOut(self._timed_out(what, list(self._live)))

    def _timed_out(self, what: str, workers: list[Worker]) -> str:
        """What was going on when a limit passed: each process of the workers' groups (state,
        kernel wait channel, CPU seconds), the end of their output and of the server logs."""
        lines = [what + " (more time: --timeout-scale or RHBENCH_TIMEOUT_SCALE)"]
        others = [w for w in self._workers if w not in workers and w.poll() is None]
        for worker in workers + others:  # the others: the repetition's servers, say
            lines.append(f"  {worker.label} pid {worker.pid}: " + _group_state(worker.pid))
            out, err = worker.output()
            tail = "" if worker.stdout in self._logs else _tail(err or out, 3)
            if tail:
                lines.append("    " + tail.replace("\n", "\n    "))
        for log in self._logs:
            text = _read(log)
            errors = len(re.findall(r'" [5]\d\d ', text))
            lines.append(f"  {log.name}: {errors} responses 5xx; ends with:")
            lines.append("    " + _tail(text, 5).replace("\n", "\n    "))
        return "\n".join(lines)

    def fill(self, row: Row, side: str, got: list[Result] | str, key: str) -> Row:
        """Put one side's numbers (``key`` of each result) or its status into a row."""
        field_name = {RH: "rh", ML: "ml", AIM: "aim"}[side]
        if isinstance(got, str):
            setattr(row, f"{field_name}_status", got)
        else:
            values = [float(r[key]) for r in got if r.get(key) is not None]
            setattr(row, field_name, values)
        if not any(existing is row for existing in self.rows):
            self.rows.append(row)
        return row


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Print how long a stage of the benchmark took."""
    started = time.perf_counter()
    _progress(f"== {name}")
    yield
    _progress(f"== {name} done in {time.perf_counter() - started:.1f} s")


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _result(worker: Worker) -> Result:
    """The result line a finished worker printed, or :class:`WorkerError`."""
    out, err = worker.output()
    status = worker.process.returncode
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_MARK):
            if status != 0:
                break
            result: Result = json.loads(line[len(RESULT_MARK) :])
            return result
    raise WorkerError(f"exit status {status}: {_tail(err or out)}")


def group_pids(pgid: int) -> list[int]:
    """The live processes of process group ``pgid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _group_state(pgid: int) -> str:
    """The processes of a process group: pid, state, kernel wait channel, CPU seconds."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            wchan = (entry / "wchan").read_text().strip() or "-"
        except (OSError, IndexError, ValueError):
            continue
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        found.append(f"{entry.name} {fields[0]} {wchan} {cpu:.1f} s CPU")
    return "; ".join(found) or "no process left"
