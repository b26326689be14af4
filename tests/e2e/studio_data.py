"""Workspaces for the studio's browser tests, written before the server starts.

The demo experiment goes through the public SDK (``Workspace``/``Experiment``/``Run``) so every
metric kind is stored exactly as a user's script stores it. The big workloads (one run with
20 metrics x 100,000 points, a sweep of 300 runs with curves, an experiment of 20,000 runs)
are written through the same local backend's tracking service and its store's batch write
path, which takes seconds instead of minutes.
"""

from __future__ import annotations

import math
import random
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from runhistory import Experiment, Workspace
from runhistory.client.backend import close_all, open_local_service, resolve_location
from runhistory.tracking.entities import VTYPE_FLOAT, MetricWrite, WriteBatch
from runhistory.tracking.run_records import new_run

CONFUSION_LABELS = ["cat", "dog", "bird"]
CONFUSION_MATRIX = [[50, 3, 2], [4, 41, 7], [1, 6, 38]]
BIG_METRICS = 20
BIG_POINTS = 100_000
MANY_RUNS = 20_000
SWEEP_RUNS = 300
SWEEP_STEPS = 100
TQDM_FINAL = "100%|##########| 100/100 [00:05<00:00, 19.8it/s]"


@dataclass
class Demo:
    """Ids of what :func:`populate_demo` wrote."""

    experiment_id: str = ""
    sweep_ids: list[str] = field(default_factory=list)
    failed_id: str = ""
    classifier_id: str = ""
    parent_id: str = ""
    child_ids: list[str] = field(default_factory=list)
    extras_experiment_id: str = ""
    kinds_id: str = ""
    crashed_id: str = ""
    wide_ids: list[str] = field(default_factory=list)


def png(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    """A small solid-colour PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(color) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def accuracy_table() -> dict[str, object]:
    """A consistent accuracy table for two classes (N = 100 at every threshold)."""
    thresholds = [i / 10 for i in range(11)]
    tables = []
    for positives in (40, 60):
        negatives = 100 - positives
        rows = []
        for i, _ in enumerate(thresholds):
            tp = round(positives * (1 - i / 10) ** 0.5)
            fp = round(negatives * (1 - i / 10) ** 2)
            rows.append([tp, fp, negatives - fp, positives - tp])
        tables.append(rows)
    return {
        "class_labels": ["no", "yes"],
        "probability_tables": tables,
        "percentile_tables": tables,
        "probability_thresholds": thresholds,
        "percentile_thresholds": thresholds,
    }


def populate_demo(folder: Path) -> Demo:
    """A sweep of five runs, a failed run, a classifier with every chart kind, and children."""
    workspace = Workspace(path=str(folder))
    experiment = Experiment(workspace, "studio-demo")
    experiment.set_tags({"team": "vision"})
    demo = Demo(experiment_id=experiment.id)
    for index, lr in enumerate((0.3, 0.1, 0.03, 0.01, 0.003)):
        run = experiment.start_logging(display_name=f"sweep-lr-{lr}", outputs=False)
        run.add_properties({"lr": str(lr), "optimizer": "adam" if index % 2 else "sgd"})
        run.set_tags({"sweep": "lr", "stage": "final" if index == 2 else "trial"})
        for step in range(200):
            loss = math.exp(-lr * step / 10) + 0.02 * math.sin(step) + 0.05 * index
            run.log("loss", loss, step=step)
            run.log("accuracy", 1 - loss / 2, step=step)
        run.log_list("lr_schedule", [lr * 0.9**k for k in range(20)])
        run.complete()
        demo.sweep_ids.append(run.id)
    failed = experiment.start_logging(display_name="diverged", outputs=False)
    failed.log("loss", 1e6)
    for k in range(5):  # the figures the SDK's system-metrics sampling logs
        failed.log("system/cpu_percent", 20.0 + k)
        failed.log("system/memory_percent", 40.0 + k)
    failed.fail(error_details="loss diverged to 1e6 at step 0", error_code="Divergence")
    demo.failed_id = failed.id
    demo.classifier_id = _classifier(experiment, folder)
    parent = experiment.start_logging(display_name="hyperdrive", outputs=False)
    for k in range(3):
        child = parent.child_run(name=f"trial-{k}")
        child.start()
        child.log("score", 0.5 + 0.1 * k)
        child.complete()
        demo.child_ids.append(child.id)
    parent.complete()
    demo.parent_id = parent.id
    _extras(Experiment(workspace, "studio-extras"), folder, demo)
    close_all()
    return demo


def _extras(experiment: Experiment, folder: Path, demo: Demo) -> None:
    """Runs for the studio's finer points: metrics logged once, text metrics, NaN, a log with
    colours and a progress bar, a traceback, long properties that would stretch rows."""
    demo.extras_experiment_id = experiment.id
    run = experiment.start_logging(display_name="kinds", outputs=False)
    run.log("final_score", 0.93)
    run.log("nan_loss", float("nan"))
    for phase in ("warmup", "train", "done"):
        run.log("phase", phase)
    run.log_list("labels", ["cat", "dog", "bird"])
    for step in range(30):
        run.log("curve", step * 0.1, step=step)
    bar = "".join(f"\r{p:3d}%|{'#' * (p // 10):<10}| {p}/100" for p in range(0, 100, 10))
    log = folder / "kinds_log.txt"
    log.write_text(
        "\x1b[1mstarting\x1b[0m training\n"
        "\x1b[32mgreen ok\x1b[0m and \x1b[31mred warning\x1b[0m\n"
        f"{bar}\r{TQDM_FINAL}\n"
        "finished\n",
        encoding="utf-8",
    )
    run.upload_file("logs/std_log.txt", str(log))
    run.complete()
    demo.kinds_id = run.id
    crashed = experiment.start_logging(display_name="crashed", outputs=False)
    try:
        _explode(depth=3)
    except ValueError as exc:
        crashed.fail(error_details=exc)
    demo.crashed_id = crashed.id
    for k in range(40):
        wide = experiment.start_logging(display_name=f"wide-{k}", outputs=False)
        wide.add_properties({
            "lr": str([0.5, 0.05, 0.005, 5][k % 4]), "epochs": str(k % 12 + 1),
            "note": "a long description of the trial " * 3 + str(k),
            "layers": ",".join(["conv3x3-64"] * 12),
        })  # fmt: skip
        wide.set_tags({"arch": "resnet" if k % 2 else "vit", "owner": f"user{k % 3}"})
        wide.log("score", k / 40)
        wide.complete()
        demo.wide_ids.append(wide.id)


def _explode(depth: int) -> None:
    if depth == 0:
        raise ValueError("the batch had no rows " + "x" * 300)
    _explode(depth - 1)


def _classifier(experiment: Experiment, folder: Path) -> str:
    run = experiment.start_logging(display_name="classifier", outputs=False)
    run.add_properties({"model": "resnet18"})
    for epoch in range(10):
        run.log_row("epochs", epoch=epoch, train_loss=1 / (epoch + 1), val_loss=1.2 / (epoch + 1))
    run.log_table(
        "calibration",
        {"bin": [0.1, 0.3, 0.5, 0.7, 0.9], "observed": [0.12, 0.28, 0.55, 0.69, 0.93]},
    )
    image = folder / "sample.png"
    image.write_bytes(png(48, 32, (40, 120, 220)))
    run.log_image("samples", path=str(image))
    run.log_confusion_matrix(
        "confusion", {"data": {"class_labels": CONFUSION_LABELS, "matrix": CONFUSION_MATRIX}}
    )
    run.log_accuracy_table("accuracy_table", {"data": accuracy_table()})
    run.log_residuals(
        "residuals", {"data": {"bin_edges": [-2, -1, 0, 1, 2], "bin_counts": [3, 12, 14, 4]}}
    )
    run.log_predictions("predictions", {"data": {
        "bin_averages": [0.2, 1.1, 2.0, 2.9], "bin_errors": [0.1, 0.2, 0.15, 0.3],
        "bin_counts": [10, 12, 9, 7], "bin_edges": [0, 1, 2, 3, 4],
    }})  # fmt: skip
    log = folder / "std_log.txt"
    log.write_text("".join(f"epoch {i}: training\n" for i in range(30)))
    run.upload_file("logs/std_log.txt", str(log))
    run.upload_file("outputs/model/weights.bin", str(image))
    run.complete()
    return run.id


def populate_big(folder: Path) -> str:
    """One completed run with :data:`BIG_METRICS` metrics of :data:`BIG_POINTS` points each."""
    service = open_local_service(resolve_location(str(folder)))
    try:
        experiment = service.get_or_create_experiment("big-metrics")
        run = service.create_run(experiment.experiment_id, display_name="20x100k", status="Running")
        start = time.time() - 3600
        steps = range(BIG_POINTS)
        for m in range(BIG_METRICS):
            rng = random.Random(m)
            points = [
                (
                    s,
                    VTYPE_FLOAT,
                    math.sin(s / 5000 + m) + rng.random() * 0.1,
                    None,
                    start + s * 0.03,
                )
                for s in steps
            ]
            points[BIG_POINTS // 2] = (BIG_POINTS // 2, VTYPE_FLOAT, 50.0, None, start)  # a spike
            service.log_metrics(run.run_id, [MetricWrite(f"metric_{m:02d}", "scalar", points)])
        service.set_status(run.run_id, "Completed")
        return run.run_id
    finally:
        service.close()


def populate_many(folder: Path, count: int = MANY_RUNS, chunk: int = 2000) -> str:
    """An experiment of ``count`` completed runs with a loss and an accuracy each, written
    ``chunk`` runs per transaction through the store's batch write path."""
    service = open_local_service(resolve_location(str(folder)))
    try:
        experiment = service.get_or_create_experiment("many-runs")
        now = time.time()
        for first in range(0, count, chunk):
            creates = []
            metrics: dict[str, list[MetricWrite]] = {}
            for i in range(first, min(count, first + chunk)):
                create = new_run(
                    experiment.experiment_id, experiment.name, "Completed",
                    display_name=f"run-{i}", tags={"group": f"g{i % 10}"},
                    properties={"seed": str(i), "note": f"trial {i} " * 8},
                )  # fmt: skip
                create.start_time, create.end_time = now - 60, now
                creates.append(create)
                metrics[create.run_id] = [
                    MetricWrite("loss", "scalar", [(None, VTYPE_FLOAT, 1 / (i + 1), None, now)]),
                    MetricWrite("accuracy", "scalar", [(None, VTYPE_FLOAT, i / count, None, now)]),
                ]
            service.store.write_changes(WriteBatch(creates=creates, metrics=metrics))
        return experiment.experiment_id
    finally:
        service.close()


def populate_sweep(folder: Path, count: int = SWEEP_RUNS, steps: int = SWEEP_STEPS) -> str:
    """An experiment of ``count`` runs with a loss and an accuracy curve of ``steps`` points."""
    service = open_local_service(resolve_location(str(folder)))
    try:
        experiment = service.get_or_create_experiment("sweep-300")
        now = time.time()
        creates = []
        metrics: dict[str, list[MetricWrite]] = {}
        for i in range(count):
            lr = 10 ** (-1 - 3 * i / count)
            create = new_run(
                experiment.experiment_id, experiment.name, "Completed",
                display_name=f"trial-{i}",
                properties={"lr": f"{lr:.6f}", "batch": str(16 << i % 4)},
            )  # fmt: skip
            create.start_time, create.end_time = now - 600, now
            creates.append(create)
            loss = [(s, VTYPE_FLOAT, math.exp(-lr * s) + i / count, None, now - 600 + s)
                    for s in range(steps)]  # fmt: skip
            accuracy = [(s, VTYPE_FLOAT, 1 - p[2] / 2, None, p[4]) for s, p in enumerate(loss)]
            metrics[create.run_id] = [
                MetricWrite("loss", "scalar", loss), MetricWrite("accuracy", "scalar", accuracy)
            ]  # fmt: skip
        service.store.write_changes(WriteBatch(creates=creates, metrics=metrics))
        return experiment.experiment_id
    finally:
        service.close()


def start_bulk_writer(folder: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """Write the big run and the many runs in a background process (a single writer)."""
    with open(log_path, "wb") as log:
        return subprocess.Popen([sys.executable, __file__, str(folder)], stdout=log, stderr=log)


if __name__ == "__main__":
    started = time.monotonic()
    populate_big(Path(sys.argv[1]))
    print(f"big run written in {time.monotonic() - started:.1f} s", flush=True)
    populate_sweep(Path(sys.argv[1]))
    print(f"{SWEEP_RUNS}-run sweep written in {time.monotonic() - started:.1f} s", flush=True)
    populate_many(Path(sys.argv[1]))
    print(f"big run and {MANY_RUNS} runs written in {time.monotonic() - started:.1f} s")
