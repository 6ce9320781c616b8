"""``mremapctl kinds``: every mapping kind, whether it can be made here, and its real VmFlags."""

from __future__ import annotations

from typing import Optional

import click

from mremapctl.cli import complete
from mremapctl.cli.output import Output, output_options


@click.command("kinds")
@click.option(
    "--backend",
    type=click.Choice(["auto", "live", "sim"]),
    default="auto",
    show_default=True,
    help="live: make each kind here; sim: what the model of --kernel makes.",
)
@click.option(
    "--kernel", metavar="VERSION", shell_complete=complete.kernels, help="The kernel model for --backend sim."
)
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
    from mremapctl.render.listings import kinds_json, render_kinds

    probes = probe_kinds(open_backend(backend, kernel)[0])
    output.show(kinds_json(probes), render_kinds, probes)
