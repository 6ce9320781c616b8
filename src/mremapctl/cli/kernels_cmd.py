"""``mremapctl kernels``: the kernel models and what changed in each."""

from __future__ import annotations

from typing import Optional

import click

from mremapctl.cli.common import Output


@click.command("kernels")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--color/--no-color", default=None, help="Force colours on or off.")
def kernels_cmd(as_json: bool, color: Optional[bool]) -> None:
    """List the kernel models the simulation knows, the releases each covers, and the
    user-visible mremap changes that begin with it.

    \b
    Example:
      mremapctl kernels
      mremapctl try --memfd --dontunmap --backend sim --kernel 5.12
    """
    from mremapctl.backends.sim.versions import MODELS

    output = Output(json=as_json, color=color)
    if as_json:
        output.emit_json([{"model": m.name, "covers": m.span, "changes": list(m.changes)} for m in MODELS])
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("model", no_wrap=True)
    table.add_column("covers", no_wrap=True)
    table.add_column("what changed")
    for m in MODELS:
        table.add_row(m.name, m.span, "\n".join(f"• {c}" for c in m.changes))
    output.console().print(table)
