"""``runhistory run logs`` and ``runhistory run download``: a run's log and files."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from runhistory.cli.options import common_options

if TYPE_CHECKING:
    from runhistory.sdk.run import Run
    from runhistory.sdk.watch import LogTail

POLL_SECONDS = 0.25
PROGRESS_MIN_BYTES = 10 * 1024 * 1024
PROGRESS_MIN_FILES = 50


def _load(run_id: str) -> Run:
    from runhistory.cli.lookup import get_run
    from runhistory.cli.workspace import open_workspace

    return get_run(open_workspace(), run_id)


@click.command("logs", short_help="Print or follow a run's log.")
@click.option("-r", "--run", "run_id", required=True, metavar="ID", help="The run id.")
@click.option(
    "-f", "--follow", is_flag=True, help="Keep printing the log as it grows until the run finishes."
)
@common_options
def logs(run_id: str, follow: bool) -> None:
    """Print a run's log (logs/std_log.txt); --follow streams it until the run ends."""
    from runhistory.sdk.watch import LOG_FILE

    found = _load(run_id)
    if follow:
        _follow(found, LOG_FILE)
        return
    names = found.get_file_names()
    if LOG_FILE not in names:
        others = [n for n in names if n.startswith("logs/")]
        listed = f" (its log files: {', '.join(others)})" if others else ""
        raise click.ClickException(
            f"run {run_id} has no {LOG_FILE}{listed}; `runhistory run download -r {run_id} "
            f"--prefix logs/` fetches every log file"
        )
    from runhistory.sdk.watch import LogTail

    _print_new(LogTail(found, LOG_FILE), final=True)


def _print_new(tail: LogTail, final: bool = False) -> None:
    text = tail.read_new(final=final)
    if text:
        click.echo(text, nl=False)


def _follow(found: Run, name: str) -> None:
    import time

    from runhistory.sdk.watch import LogTail
    from runhistory.tracking import status as st

    tail = LogTail(found, name)
    while True:
        finished = st.is_terminal(found.get_status())
        _print_new(tail, final=finished)
        if finished:
            return
        time.sleep(POLL_SECONDS)


@click.command("download", short_help="Download a run's files.")
@click.option("-r", "--run", "run_id", required=True, metavar="ID", help="The run id.")
@click.option("--prefix", metavar="PREFIX", help="Only files whose name starts with PREFIX.")
@click.option(
    "-o",
    "--output-dir",
    "output_dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to download into.",
)
@common_options
def download(run_id: str, prefix: str | None, output_dir: str) -> None:
    """Download a run's files (those under --prefix) into a folder, keeping their paths."""
    found = _load(run_id)
    files = found._backend.list_files(found.id, prefix=prefix)
    if not files:
        where = f" under {prefix!r}" if prefix else ""
        raise click.ClickException(
            f"run {run_id} has no files{where}; `runhistory run show -r {run_id}` shows the run"
        )
    total = sum(f.size for f in files)
    folder = os.path.abspath(output_dir)
    with _DownloadProgress(total, len(files)) as advance:
        for info in files:
            target = os.path.join(folder, *info.name.split("/"))
            found.download_file(info.name, target)
            advance(info.size)
    click.echo(f"downloaded {len(files)} file(s), {_size(total)}, to {folder}", err=True)


class _DownloadProgress:
    """A byte progress bar on stderr for large downloads on a terminal; silent otherwise."""

    def __init__(self, total: int, count: int) -> None:
        import sys

        large = total >= PROGRESS_MIN_BYTES or count >= PROGRESS_MIN_FILES
        self._bar: Any = None
        if large and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TransferSpeedColumn,
            )

            self._bar = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                transient=True,
                console=Console(stderr=True),
            )
            self._task = self._bar.add_task("downloading", total=total)

    def __enter__(self) -> Any:
        if self._bar is None:
            return lambda size: None
        self._bar.start()
        return lambda size: self._bar.advance(self._task, size)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"
