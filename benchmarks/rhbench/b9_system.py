"""B9: the cost of system metrics — one sample (read and logged) and the cost added to a run.

A sample reads CPU, memory, disk and network figures with psutil (and GPUs through NVML when
present) and logs each through the run's queue, as the sampling thread does; the CPU time
includes the queue's writer storing the values. Its CPU time over the default interval (10 s)
is the share of one core the sampling takes. The cost added to a run is ``start_logging()`` +
one ``log`` + ``complete()`` with sampling on, minus the same with it off (joining and leaving
the process's sampling thread). runhistory only: MLflow samples system metrics only when asked.
"""

from __future__ import annotations

import time

from rhbench.harness import RH, Harness, Row

DEFAULT_INTERVAL = 10.0


def measure(samples: int, runs: int) -> dict[str, float]:
    """Worker: per-sample wall and CPU time, and the time sampling adds to a short run."""
    from runhistory import Experiment, Workspace
    from runhistory.sysmetrics.monitor import SystemMonitor, _default_sampler

    experiment = Experiment(Workspace(), "bench-b9")
    run = experiment.start_logging(outputs=False, system_metrics=False)
    sampler = _default_sampler()
    monitor = SystemMonitor(run.log)
    monitor._active = True  # delivered to by hand below, as the sampling thread does
    baseline = sampler.baseline()
    monitor._deliver(sampler.sample(baseline))  # warm: the metric keys exist
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(samples):
        monitor._deliver(sampler.sample(baseline))
    wall_s, cpu_s = (time.perf_counter() - wall) / samples, (time.process_time() - cpu) / samples
    run.complete()

    def short_runs(system_metrics: bool) -> float:
        started = time.perf_counter()
        for _ in range(runs):
            one = experiment.start_logging(outputs=False, system_metrics=system_metrics)
            one.log("x", 1.0)
            one.complete()
        return (time.perf_counter() - started) / runs

    short_runs(True)  # warm both paths (psutil and NVML imported once per process)
    off, on = [], []
    for _ in range(3):
        off.append(short_runs(False))
        on.append(short_runs(True))
    added = sorted(on)[1] - sorted(off)[1]
    return {
        "sample_ms": wall_s * 1e3,
        "sample_cpu_ms": cpu_s * 1e3,
        "cpu_share_percent": cpu_s / DEFAULT_INTERVAL * 100,
        "run_added_ms": added * 1e3,
        "values_per_sample": float(len(sampler.sample(None))),
    }


def run(h: Harness) -> None:
    """Measure in a fresh process per repetition; MLflow's column says n/a."""
    quick = h.settings.quick
    params = {"samples": 200 if quick else 2000, "runs": 20 if quick else 100}
    results = h.alternate(
        "B9 system metrics", {RH: lambda rep: h.call(RH, "b9_system", "measure", params)}
    )
    size = f"{params['samples']} samples"
    rows = [
        ("sample_ms", "system metrics: one sample read + logged, wall", "ms", size),
        ("sample_cpu_ms", "system metrics: one sample, CPU time", "ms", size),
        ("cpu_share_percent", "system metrics: CPU share at the 10 s interval", "%", size),
        ("run_added_ms", "system metrics: added to a short run", "ms", f"{params['runs']} runs"),
    ]
    for key, measure_name, unit, rh_size in rows:
        row = Row("B9", measure_name, unit, False, rh_size, "-", "SQLite file / -")
        h.fill(row, RH, results[RH], key)
        row.ml_status = "n/a: opt-in in MLflow"
