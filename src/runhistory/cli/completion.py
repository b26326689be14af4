"""``runhistory completion bash|zsh|fish``: print click's shell completion script."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    Enable it with, for example:
      bash: eval "$(runhistory completion bash)"     (in ~/.bashrc)
      zsh:  eval "$(runhistory completion zsh)"      (in ~/.zshrc)
      fish: runhistory completion fish > ~/.config/fish/completions/runhistory.fish
    """
    from click.shell_completion import get_completion_class

    from runhistory.cli.main import cli

    completion_class = get_completion_class(shell)
    if completion_class is None:  # pragma: no cover - click ships all three
        raise click.ClickException(f"click has no completion for {shell}")
    source = completion_class(cli, {}, "runhistory", "_RUNHISTORY_COMPLETE").source()
    click.echo(source)
