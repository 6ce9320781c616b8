"""``mremapctl vm``: the real kernels the vm backend can boot here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict

import click

from mremapctl.cli import complete
from mremapctl.cli.output import Output, output_options

if TYPE_CHECKING:
    from mremapctl.backends.vm.versions import KernelPackage


@click.group("vm")
def vm_cmd() -> None:
    """Real Debian kernels booted under qemu: list, fetch ahead of time, free the cache.

    \b
    Examples:
      mremapctl vm list                  # the newest kernel of each series, 5.10 to 7.3
      mremapctl vm list --all --json     # every release, with its packages and size
      mremapctl vm fetch 6.18.5
      mremapctl try --memfd --dontunmap --backend vm --kernel 7.2
    """


@vm_cmd.command("list")
@click.option("--all", "every", is_flag=True, help="One row per kernel release, every flavour and point release.")
@output_options()
def vm_list(every: bool, output: Output) -> None:
    """The newest kernel of each series obtainable here (--all: every release), newest first."""
    from mremapctl.backends import vm
    from mremapctl.backends.vm import catalog
    from mremapctl.backends.vm.virtiofs import find_virtiofsd
    from mremapctl.render.listings import render_vm_list, vm_list_json

    virtiofs_ok = find_virtiofsd() is not None
    with output.progress("vm") as progress:
        packages = vm.available(progress=progress.say)
    shown = [_row(p, catalog.note(p, virtiofs_ok)) for p in catalog.rows(packages, every)]
    output.show(vm_list_json(shown), render_vm_list, shown)


def _row(p: KernelPackage, note: str) -> Dict[str, Any]:
    """One kernel as `vm list` reports it (the JSON object; the table shows the same fields)."""
    return {
        "series": p.series,
        "upstream": p.upstream,
        "release": p.release,
        "package": p.package,
        "version": p.version,
        "flavour": p.flavour,
        "suite": p.suite,
        "size": p.size,
        "cached": p.cached,
        "downloads": list(p.downloads),
        "transport": "virtiofs" if p.needs_virtiofs else "9p",
        "note": note,
    }


@vm_cmd.command("fetch")
@click.argument("kernel", metavar="VERSION", shell_complete=complete.kernels)
def vm_fetch(kernel: str) -> None:
    """Download and prepare a kernel (the newest package of that major.minor)."""
    from mremapctl.backends import vm

    with Output().progress("vm") as progress:
        booted = vm.get(kernel, progress=progress.say)
    click.echo(f"ready: {booted.release} ({booted.package}, {booted.transport}) in {booted.directory}")


@vm_cmd.command("clean")
def vm_clean() -> None:
    """Delete the kernel cache."""
    from mremapctl.backends import vm
    from mremapctl.units import rough_size

    freed = vm.clean()
    click.echo(f"freed {rough_size(freed)} ({vm.cache_dir()})")
