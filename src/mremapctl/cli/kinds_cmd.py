"""``mremapctl kinds``: every mapping kind, whether it can be made here, and its real VmFlags."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import click

from mremapctl.cli.output import Output, output_options


@click.command("kinds")
@click.option(
    "--backend",
    type=click.Choice(["auto", "live", "sim"]),
    default="auto",
    show_default=True,
    help="live: make each kind here; sim: what the model of --kernel makes.",
)
@click.option("--kernel", metavar="VERSION", help="The kernel model for --backend sim.")
@output_options()
def kinds_cmd(backend: str, kernel: Optional[str], output: Output) -> None:
    """Make one mapping of every kind (in a forked child, inside the lab) and show its VmFlags
    as /proc/self/smaps reports them, or why the kind is unavailable here.

    \b
    Example:
      mremapctl kinds
    """
    from mremapctl.backends.select import open_backend
    from mremapctl.kind_probe import probe_kinds

    chosen, _ = open_backend(backend, kernel)
    rows = probe_kinds(chosen)
    if output.json:
        output.emit_json(rows)
        return
    _table(output, rows)


def _table(output: Output, rows: List[Dict[str, Any]]) -> None:
    from rich.table import Table
    from rich.text import Text

    from mremapctl.render.text import vm_flags_text

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("kind", "here", "VmFlags", "what it is"):
        table.add_column(column)
    for row in rows:
        here = Text("yes", style="green") if row["available"] else Text("no", style="red")
        detail = row["summary"] if row["available"] else row["reason"]
        table.add_row(
            row["kind"],
            here,
            vm_flags_text(row["vm_flags"]) if row["available"] else Text(""),
            Text(detail, style="" if row["available"] else "red"),
        )
    output.console().print(table)
