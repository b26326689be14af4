"""Entry point of the ``runhistory`` command.

Startup must stay fast (``runhistory --help`` well under 300 ms): this module imports only
click. Command groups live in their own modules and are imported when they run; the SDK, rich
and jmespath are imported inside the commands that use them.
"""

from __future__ import annotations

import click

from runhistory import __version__
from runhistory.cli.group import LazyGroup
from runhistory.cli.options import common_options

# name -> ("module:attribute", one-line help shown by ``runhistory --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "folder": ("runhistory.cli.folder:folder", "Attach a project folder to a workspace."),
    "run": ("runhistory.cli.run:run", "List, inspect, tag, cancel, submit and delete runs."),
    "experiment": (
        "runhistory.cli.experiment:experiment",
        "List, archive, reactivate and delete experiments.",
    ),
    "model": ("runhistory.cli.model:model", "List, show and download registered models."),
    "secret": ("runhistory.cli.secret:secret", "Set, list and delete workspace secrets."),
    "compute": (
        "runhistory.cli.compute:compute",
        "Attach, list, show and detach compute targets.",
    ),
    "exec": (
        "runhistory.cli.exec_command:exec_script",
        "Run a script with the azureml alias and an interactive run.",
    ),
    "db": ("runhistory.cli.db:db", "Show and upgrade the schema of a workspace database."),
    "completion": (
        "runhistory.cli.completion:completion",
        "Print the shell completion script for bash, zsh or fish.",
    ),
}

# Commands provided by the server module: each is looked up as an attribute of this module
# (a click command or group), imported only when the command runs. They are listed only when
# the module is installed.
SERVER_MODULE = "runhistory.cli.server_commands"
SERVER_COMMANDS: dict[str, str] = {
    "server": "Run the runhistory tracking server.",
    "ui": "Open the studio for a workspace.",
    "sync": "Send runs recorded offline to a server.",
    "token": "Manage access tokens of a server.",
}


@click.group(
    cls=LazyGroup,
    commands=COMMANDS,
    optional_module=SERVER_MODULE,
    optional_commands=SERVER_COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="runhistory")
@common_options
def cli() -> None:
    """runhistory: experiment tracking with the run-history API of the Azure ML SDK v1.

    Commands follow `az ml`: `runhistory run list --experiment-name NAME`,
    `runhistory run show -r ID`, `runhistory run update -r ID --add-tag key=value`.
    Listings take -o json|table|tsv|yaml and --query JMESPATH.

    The workspace is, in order: --tracking-uri, -w/--workspace (a named local workspace or a
    folder), RUNHISTORY_TRACKING_URI, the nearest .runhistory/config.json above the working
    directory, the default workspace (RUNHISTORY_HOME).
    """


def main() -> None:
    """Run the command line."""
    cli(prog_name="runhistory")
