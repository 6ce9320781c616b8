"""``mremapctl explain``: the rules behind an errno, a flag's history, or one rule."""

from __future__ import annotations

from typing import Any, List, Optional

import click

from mremapctl.cli.output import Output, output_options


@click.command("explain")
@click.argument("topic", metavar="ERRNO|FLAG|RULE")
@click.option("--kernel", metavar="VERSION", help="Only the rules that hold in this kernel version.")
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

    rules = find_rules(topic, kernel)
    if output.json:
        output.emit_json(
            [{"id": r.id, "errno": r.errno, "versions": r.versions, "text": r.text, "change": r.change} for r in rules]
        )
        return
    console = output.console()
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold", show_lines=False)
    for column in ("rule", "errno", "kernels", "what the kernel checks or does"):
        table.add_column(column, no_wrap=column != "what the kernel checks or does")
    for r in rules:
        table.add_row(r.id, r.errno or "—", r.versions, Text(f"{r.text}\n").append(r.change, style="dim"))
    console.print(table)
    history: List[Any] = flag_history(topic)
    if history:
        console.print(Text("\nhistory", style="bold"))
        for model, change in history:
            console.print(Text(f"  {model}: ", style="bold").append(change))
