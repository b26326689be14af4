"""Entry point of the ``runhistory`` command."""

from __future__ import annotations

import click

from runhistory import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runhistory")
def cli() -> None:
    """runhistory: experiment tracking with the run-history API of the Azure ML SDK v1."""


def main() -> None:
    """Run the command line."""
    cli()
