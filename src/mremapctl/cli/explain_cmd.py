"""``mremapctl explain``: the rules behind an errno, a flag's history, or one rule."""

from __future__ import annotations

from typing import Optional

import click

from mremapctl.cli import complete
from mremapctl.cli.output import Output, output_options


@click.command("explain")
@click.argument("topic", metavar="ERRNO|FLAG|RULE", shell_complete=complete.topics)
@click.option(
    "--kernel",
    metavar="VERSION",
    shell_complete=complete.kernels,
    help="Only the rules that hold in this kernel version.",
)
@output_options()
def explain_cmd(topic: str, kernel: Optional[str], output: Output) -> None:
    """Every rule that yields an errno (EINVAL, EFAULT, ENOMEM, EAGAIN, EPERM), or that governs a
    flag (DONTUNMAP, FIXED, MAYMOVE), with the kernel versions it holds for and the change it
    comes from.

    \b
    Examples:
      mremapctl explain EINVAL --kernel 5.12
      mremapctl explain DONTUNMAP
      mremapctl explain dontunmap-dontexpand-pfnmap
    """
    from mremapctl.explain import find_rules, flag_history
    from mremapctl.render.listings import render_rules, rules_json

    rules, history = find_rules(topic, kernel), flag_history(topic)
    output.show(rules_json(topic, kernel, rules, history), render_rules, rules, history)
