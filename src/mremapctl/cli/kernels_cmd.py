"""``mremapctl kernels``: the kernel models and what changed in each."""

from __future__ import annotations

import click

from mremapctl.cli.output import Output, output_options


@click.command("kernels")
@output_options()
def kernels_cmd(output: Output) -> None:
    """List the kernel models the simulation knows, the releases each covers, and the
    user-visible mremap changes that begin with it.

    \b
    Example:
      mremapctl kernels
      mremapctl try --memfd --dontunmap --backend sim --kernel 5.12
    """
    from mremapctl.backends.sim.versions import MODELS

    if output.json:
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
