"""``mremapctl vm``: the real kernels the vm backend can boot here."""

from __future__ import annotations

import click

from mremapctl.cli.output import Output, output_options


def _progress(line: str) -> None:
    click.echo(f"  {line}", err=True)


@click.group("vm")
def vm_cmd() -> None:
    """Real Debian kernels booted under qemu: list, fetch ahead of time, free the cache.

    \b
    Examples:
      mremapctl vm list
      mremapctl vm fetch 5.10
      mremapctl try --memfd --dontunmap --backend vm --kernel 5.10
    """


@vm_cmd.command("list")
@output_options()
def vm_list(output: Output) -> None:
    """The kernels obtainable here (newest first) and which are cached."""
    from mremapctl.backends import vm

    packages = vm.available(progress=_progress)
    if output.json:
        output.emit_json(
            [
                {
                    "package": p.package,
                    "upstream": p.upstream,
                    "release": p.release,
                    "suite": p.suite,
                    "cached": p.cached,
                }
                for p in packages
            ]
        )
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("kernel", "release", "package", "suite", "cached"):
        table.add_column(column)
    for p in packages:
        table.add_row(p.upstream, p.release, p.package, p.suite, "yes" if p.cached else "")
    output.console().print(table)


@vm_cmd.command("fetch")
@click.argument("kernel", metavar="VERSION")
def vm_fetch(kernel: str) -> None:
    """Download and prepare a kernel (the newest package of that major.minor)."""
    from mremapctl.backends import vm

    booted = vm.get(kernel, progress=_progress)
    click.echo(f"ready: {booted.release} ({booted.package}) in {booted.directory}")


@vm_cmd.command("clean")
def vm_clean() -> None:
    """Delete the kernel cache."""
    from mremapctl.backends import vm
    from mremapctl.units import rough_size

    freed = vm.clean()
    click.echo(f"freed {rough_size(freed)} ({vm.cache_dir()})")
