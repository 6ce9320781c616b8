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
    from mremapctl.kernel import models
    from mremapctl.render.listings import kernels_json, render_kernels

    output.show(kernels_json(models()), render_kernels, models())
