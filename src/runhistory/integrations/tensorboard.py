"""Export a run's metrics as TensorBoard event files (``azureml.tensorboard`` of the original).

``export_to_tensorboard(run, logdir)`` writes one folder of event files per run (the run and,
with ``recursive``, its descendants) under ``logdir/<run id>``: numeric metrics as scalars at
their steps and logging times, each numeric column of a table as ``<metric>/<column>``, strings
as text. It needs the ``tensorboard`` extra (``pip install runhistory[tensorboard]``, which
brings the light ``tensorboardX`` writer). :class:`Tensorboard` serves a folder with the
``tensorboard`` program when it is installed.
"""

from __future__ import annotations

import numbers
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from typing import Any

from runhistory.errors import ConfigurationError, ValidationError

__all__ = ["Tensorboard", "export_to_tensorboard"]


def _writer(folder: str) -> Any:
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ConfigurationError(
            "exporting to TensorBoard needs the tensorboardX package: "
            "pip install 'runhistory[tensorboard]'"
        ) from None
    return SummaryWriter(logdir=folder)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _write_metric(writer: Any, run: Any, name: str, value: Any) -> int:
    """Write one metric; returns how many events it made."""
    if _is_number(value) or (isinstance(value, list) and value and all(map(_is_number, value))):
        history = run.get_metric_history(name)
        for index, point in enumerate(history):
            step = index if point["step"] is None else point["step"]
            writer.add_scalar(name, point["value"], global_step=step, walltime=point["time"])
        return len(history)
    if isinstance(value, dict) and "schema_type" not in value:
        written = 0
        for column, values in value.items():
            numeric = [v for v in values if _is_number(v)] if isinstance(values, list) else []
            for step, number in enumerate(numeric):
                writer.add_scalar(f"{name}/{column}", number, global_step=step)
            written += len(numeric)
        return written
    if isinstance(value, str):
        writer.add_text(name, value)
        return 1
    return 0


def _runs(run_data: Any, recursive: bool) -> list[Any]:
    found = list(run_data) if isinstance(run_data, Iterable) else [run_data]
    if not all(hasattr(r, "get_metrics") and hasattr(r, "id") for r in found):
        raise ValidationError("export_to_tensorboard takes a Run or a list of runs")
    if recursive:
        found += [child for r in list(found) for child in r.get_children(recursive=True)]
    return list({r.id: r for r in found}.values())


def export_to_tensorboard(
    run_data: Any, logdir: str, logger: Any = None, recursive: bool = True
) -> list[str]:
    """Write the metrics of a run (or runs, with their descendants) as TensorBoard events.

    Args:
        run_data: a :class:`~runhistory.Run` or a list of runs.
        logdir: the folder to write into; each run gets ``logdir/<run id>``.
        logger: an optional ``logging.Logger`` told what was written.
        recursive: include the runs' descendants.

    Returns:
        The folders written, one per run.

    Raises:
        ConfigurationError: tensorboardX is not installed.
    """
    folders = []
    for run in _runs(run_data, recursive):
        folder = os.path.join(os.path.abspath(logdir), run.id)
        writer = _writer(folder)
        try:
            count = sum(_write_metric(writer, run, n, v) for n, v in run.get_metrics().items())
        finally:
            writer.close()
        if logger is not None:
            logger.info("exported %d events of run %s to %s", count, run.id, folder)
        folders.append(folder)
    return folders


class Tensorboard:
    """Serve runs' metrics with the ``tensorboard`` program (``pip install tensorboard``).

    Args:
        runs: runs to export before serving (may be empty).
        local_root: the folder of event files to serve (default: a temporary folder).
        port: the port to serve on (loopback only).
    """

    def __init__(self, runs: Any, local_root: str | None = None, port: int = 6006) -> None:
        self.runs = list(runs or [])
        self.local_root = local_root or tempfile.mkdtemp(prefix="runhistory-tensorboard-")
        self.port = int(port)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, start_browser: bool = False) -> str:
        """Export the runs and start TensorBoard; returns its URL.

        Raises:
            ConfigurationError: the ``tensorboard`` program is not installed.
        """
        program = shutil.which("tensorboard")
        if program is None:
            raise ConfigurationError(
                "the tensorboard program is not installed: pip install tensorboard (or open "
                f"the event files in {self.local_root} with a TensorBoard you have)"
            )
        if self.runs:
            export_to_tensorboard(self.runs, self.local_root)
        command = [program, "--logdir", self.local_root, "--host", "127.0.0.1",
                   "--port", str(self.port)]  # fmt: skip
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        """Stop the TensorBoard process started by :meth:`start`."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)
        self._process = None
