"""The harness: runs workers in fresh processes, alternates the sides, collects rows.

The sides are runhistory, MLflow and Aim (the peers each in their own venv).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rhbench.common import RESULT_MARK, median

BENCH_DIR = Path(__file__).resolve().parent.parent
RH = "runhistory"
ML = "mlflow"
AIM = "aim"
Result = dict[str, Any]


class WorkerError(Exception):
    """A worker process failed; the message holds the end of its output."""


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
            PYTHONWARNINGS="ignore",
        )
        return env

    def spawn(self, side: str, module: str, function: str, params: Result, cwd: Path) -> Any:
        """Start one worker without waiting (for concurrent clients)."""
        command = [self.python(side), "-m", "rhbench.worker", module, function, json.dumps(params)]
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=self.env(side, cwd),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def collect(self, process: Any, timeout: float = 1800) -> Result:
        """Wait for a worker and return its result, or raise :class:`WorkerError`."""
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            raise WorkerError(f"timed out after {timeout} s: {_tail(err)}") from None
        for line in reversed(out.splitlines()):
            if line.startswith(RESULT_MARK):
                if process.returncode != 0:
                    break
                result: Result = json.loads(line[len(RESULT_MARK) :])
                return result
        raise WorkerError(f"exit status {process.returncode}: {_tail(err or out)}")

    def call(
        self, side: str, module: str, function: str, params: Result, cwd: Path | None = None
    ) -> Result:
        """Run one worker function in a fresh process and return what it returned."""
        folder = cwd if cwd is not None else self.scratch(f"{module}-{function}")
        return self.collect(self.spawn(side, module, function, params, folder))

    # ---- folders ---------------------------------------------------------------------
    def scratch(self, name: str) -> Path:
        """A new empty folder under the harness's temporary root."""
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self._root))
        return path

    def cleanup(self) -> None:
        """Delete every scratch folder (unless asked to keep them)."""
        if not self.settings.keep:
            shutil.rmtree(self._root, ignore_errors=True)

    # ---- repetitions -----------------------------------------------------------------
    def alternate(
        self, label: str, sides: Mapping[str, Callable[[int], Result]], reps: int | None = None
    ) -> dict[str, list[Result] | str]:
        """Run each side's measurement ``reps`` times, alternating which side goes first.

        Returns, per side, the list of results or a status string ("n/a: …", "error: …").
        """
        count = reps if reps is not None else self.settings.reps
        results: dict[str, list[Result] | str] = {side: [] for side in sides}
        for rep in range(count):
            order = list(sides) if rep % 2 == 0 else list(sides)[::-1]
            for side in order:
                done = results[side]
                if isinstance(done, str):
                    continue
                results[side] = self._measure(label, side, sides[side], rep, done)
        self.raw[label] = results
        return results

    def _measure(
        self, label: str, side: str, measure: Callable[[int], Result], rep: int, done: list[Result]
    ) -> list[Result] | str:
        started = time.perf_counter()
        try:
            done.append(measure(rep))
        except NotAvailable as exc:
            _progress(f"{label} {side}: n/a ({exc})")
            return f"n/a: {exc}"
        except Exception as exc:  # any failure becomes an error cell, never a crash
            message = f"{label} {side}: {type(exc).__name__}: {exc}"
            self.errors.append(message)
            _progress("ERROR " + message)
            last = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            return f"error: {last[:60]}"
        _progress(f"{label} {side} rep {rep + 1}: {time.perf_counter() - started:.1f} s")
        return done

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
