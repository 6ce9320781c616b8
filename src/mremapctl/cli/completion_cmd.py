"""``mremapctl completion SHELL``: the script that makes the shell complete mremapctl."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion_cmd(shell: str) -> None:
    """Print the script that completes mremapctl's commands, options and their values (kinds,
    bundled scenarios and files, explain topics, kernel versions) in SHELL.

    \b
    Enable it:
      bash  echo 'eval "$(mremapctl completion bash)"' >> ~/.bashrc      (bash 4.4 or later)
      zsh   echo 'eval "$(mremapctl completion zsh)"' >> ~/.zshrc
      fish  mremapctl completion fish > ~/.config/fish/completions/mremapctl.fish
    """
    from click.shell_completion import get_completion_class

    from mremapctl.cli import COMPLETE_VAR, PROG, cli

    script = get_completion_class(shell)
    assert script is not None  # every SHELLS entry is one click knows
    click.echo(script(cli, {}, PROG, COMPLETE_VAR).source())
