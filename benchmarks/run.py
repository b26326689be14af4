"""Benchmark runhistory against MLflow and Aim: the workloads B1-B10 of the same run, side by side.

    python benchmarks/run.py            # full sizes (10-15 min on 2 cores)
    python benchmarks/run.py --quick    # small sizes, about a minute: the CI smoke test

Each measurement runs in a fresh process with a fresh workspace or database; the sides
alternate, several repetitions each, and the table shows medians. MLflow is installed into
``benchmarks/.venv-mlflow`` (pinned) on first use, the newest Aim into ``benchmarks/.venv-aim``
(Aim only where it has an equivalent: B1-B4, B6's imports, B7; ``--no-aim`` leaves it out).
Results go to ``benchmarks/results-*.json``. ``RHBENCH_B10_REUSE=1`` keeps the databases of
B10's searched experiment and reuses them in later runs (see ``rhbench/b10_mlflow_api.py``).
The exit status is non-zero only when a workload failed — never because of speed.

No row can hang the run: each repetition of a side has a time limit scaled to its workload
(``--timeout-scale 2`` / ``RHBENCH_TIMEOUT_SCALE=2`` doubles them all on a busy machine,
``--timeout 600`` / ``RHBENCH_TIMEOUT=600`` gives every repetition 600 s); past it the processes
the harness started for it are killed, the cell says "timed out" and the next row runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rhbench import (
    aim_side,
    b1_log,
    b2_read,
    b3_runs,
    b6_start,
    b7_listings,
    b9_system,
    b10_mlflow_api,
    http_runs,
    http_session,
)
from rhbench.aim_env import VENV as AIM_VENV
from rhbench.aim_env import ensure_aim
from rhbench.harness import BENCH_DIR, Harness, Settings, stage
from rhbench.mlflow_env import ensure_mlflow
from rhbench.report import markdown_table, text_table, write_json

WORKLOADS = {"B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10"}
# Stages in order: (name, workloads it covers, function). The server workloads share sessions.
STAGES = [
    ("B1 logging", {"B1"}, b1_log.run),
    ("B2 reading", {"B2"}, b2_read.run),
    ("B3 runs", {"B3"}, b3_runs.run),
    ("B6 imports", {"B6"}, b6_start.run),
    ("B4/B5/B6 servers", {"B4", "B5", "B6"}, http_session.run),
    ("B4 Aim server", {"B4"}, aim_side.b4),
    ("B7/B8 listings", {"B7", "B8"}, b7_listings.run),
    ("B3/B7 over HTTP", {"B3", "B7"}, http_runs.run),
    ("B7 Aim listings", {"B7"}, aim_side.b7),
    ("B9 system metrics", {"B9"}, b9_system.run),
    ("B10 MLflow API", {"B10"}, b10_mlflow_api.run),
]
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    parser.add_argument("--reps", type=int, help="repetitions per side (default 3, quick 1)")
    parser.add_argument("--only", default="", help="comma-separated workloads, e.g. B1,B3")
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folders")
    parser.add_argument("--no-aim", action="store_true", help="leave Aim's column empty")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("RHBENCH_POSTGRES", DEFAULT_POSTGRES),
        help="a PostgreSQL server (any database) where bench_* databases may be created",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=_env_float("RHBENCH_TIMEOUT"),
        help="seconds every repetition of a side may take (default: each workload's own limit)",
    )
    parser.add_argument(
        "--timeout-scale",
        type=float,
        default=_env_float("RHBENCH_TIMEOUT_SCALE") or 1.0,
        help="multiply every time limit (default 1; e.g. 3 on a heavily loaded machine)",
    )
    args = parser.parse_args(argv)
    if args.timeout is not None and args.timeout <= 0:
        parser.error("--timeout must be positive")
    if args.timeout_scale <= 0:
        parser.error("--timeout-scale must be positive")
    unknown = {w.strip().upper() for w in args.only.split(",") if w.strip()} - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workload(s) {sorted(unknown)}: choose among {sorted(WORKLOADS)}")
    if args.reps is not None and args.reps < 1:
        parser.error("--reps must be at least 1")
    return args


def _env_float(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r} is not a number of seconds") from None


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """A terminated benchmark unwinds as an interrupted one: its servers and workers stopped."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str]) -> int:
    """Run the chosen workloads, print the table, write the JSON; 1 if any workload failed."""
    args = parse_args(argv)
    started = time.time()
    try:
        mlflow_python, mlflow_version = ensure_mlflow()
    except RuntimeError as exc:
        print(f"MLflow is not available, its column stays empty: {exc}", file=sys.stderr)
        mlflow_python, mlflow_version = None, "not installed"
    aim_python, aim_version, aim_missing = aim_peer(args)
    only = {w.strip().upper() for w in args.only.split(",") if w.strip()} or set(WORKLOADS)
    settings = Settings(
        quick=args.quick,
        reps=args.reps or (1 if args.quick else 3),
        only=only,
        mlflow_python=mlflow_python,
        mlflow_version=mlflow_version,
        postgres_url=args.postgres,
        keep=args.keep,
        aim_python=aim_python,
        aim_version=aim_version,
        aim_missing=aim_missing,
        timeout=args.timeout,
        timeout_scale=args.timeout_scale,
    )
    compile_runhistory()
    harness = Harness(settings)
    harness.info = context(settings, started)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        for name, covers, workload in STAGES:
            if covers & only:
                with stage(name):
                    workload(harness)
    finally:
        harness.cleanup()
    aim_side.finish(harness)
    harness.info["seconds"] = round(time.time() - started, 1)
    harness.info["load_after"] = _load()
    print(headline(harness.info))
    print(text_table(harness.rows))
    for note in harness.notes:
        print(note)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started))
    out = args.json or BENCH_DIR / f"results-{stamp}.json"
    write_json(out, harness.info, harness.rows, harness.errors, harness.raw)
    if args.markdown:
        args.markdown.write_text(markdown_table(harness.rows) + "\n", encoding="utf-8")
    print(f"results: {out}")
    for error in harness.errors:
        print(f"ERROR {error}", file=sys.stderr)
    return 1 if harness.errors else 0


def compile_runhistory() -> None:
    """Bring the measured runhistory's bytecode up to date, as installing a wheel does (the
    peers' packages have theirs from pip). The workers run with ``PYTHONDONTWRITEBYTECODE``, so
    an editable install whose sources changed since its ``.pyc`` files were written would
    compile those modules again in every process: about 0.1-0.2 s of B6's server start."""
    import compileall

    import runhistory

    compileall.compile_dir(Path(runhistory.__file__).parent, quiet=1)


def aim_peer(args: argparse.Namespace, venv: Path = AIM_VENV) -> tuple[str | None, str, str]:
    """Aim's interpreter and version, or None and why its column stays empty."""
    if args.no_aim:
        return None, "not used", "--no-aim"
    try:
        python, version = ensure_aim(venv)
    except RuntimeError as exc:
        print(f"Aim is not available, its column stays empty: {exc}", file=sys.stderr)
        return None, "not installed", "not installed"
    return python, version, ""


def context(settings: Settings, started: float) -> dict[str, object]:
    """What the numbers were measured on and with."""
    import runhistory

    return {
        "date": time.strftime("%Y-%m-%d %H:%M", time.localtime(started)),
        "mode": "quick" if settings.quick else "full",
        "repetitions": settings.reps,
        "timeout": settings.timeout,
        "timeout_scale": settings.timeout_scale,
        "runhistory": runhistory.__version__,
        "mlflow": settings.mlflow_version,
        "aim": settings.aim_version,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
        "cpu": _cpu_model(),
        "load_before": _load(),
    }


def _load() -> str:
    """The 1/5/15-minute load averages: other work on the machine skews every number."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def headline(info: dict[str, object]) -> str:
    """One line naming versions, machine and mode above the table."""
    return (
        f"runhistory {info['runhistory']} vs MLflow {info['mlflow']} and Aim {info['aim']} · "
        f"Python {info['python']} · "
        f"{info['machine']} ({info['cpu']}) · {info['date']} · {info['mode']}, "
        f"{info['repetitions']} repetition(s), medians · {info['seconds']} s · load "
        f"{info['load_before']} → {info['load_after']}"
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
