"""``mremapctl vm``: the real kernels the vm backend can boot here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

import click

from mremapctl.cli import complete
from mremapctl.cli.common import vm_target_options
from mremapctl.cli.output import Output, output_options

if TYPE_CHECKING:
    from mremapctl.backends.vm.packages import KernelPackage


@click.group("vm")
def vm_cmd() -> None:
    """Real Debian kernels booted under qemu: list, fetch ahead of time, free the cache.

    \b
    Examples:
      mremapctl vm list                  # the newest kernel of each series, 5.10 to 7.3
      mremapctl vm list --all --json     # every release, with its packages and size
      mremapctl vm fetch 6.18.5
      mremapctl try --memfd --dontunmap --backend vm --kernel 7.2
      mremapctl vm list --arch arm64     # arm64 kernels, 4K and 16K pages (arm64-16k)
      mremapctl vm fetch --arch arm64 --page-size 16K 7.2
      mremapctl try --memfd --dontunmap --backend vm --arch arm64 --page-size 16K --kernel 7.2
    """


ARCH_OPTION, PAGE_SIZE_OPTION = vm_target_options()


@vm_cmd.command("list")
@click.option("--all", "every", is_flag=True, help="One row per kernel release, every flavour and point release.")
@ARCH_OPTION
@output_options()
def vm_list(every: bool, arch: Optional[str], output: Output) -> None:
    """The newest kernel of each series obtainable here, in each page size (--all: every release), newest first."""
    from mremapctl.backends import vm
    from mremapctl.backends.vm import catalog
    from mremapctl.backends.vm.arch import get_arch
    from mremapctl.backends.vm.virtiofs import find_virtiofsd
    from mremapctl.render.listings import render_vm_list, vm_list_json

    target = get_arch(arch)
    virtiofs_ok = find_virtiofsd() is not None
    with output.progress("vm") as progress:
        packages = vm.available(progress=progress.say, arch=target.name)
    flavours = tuple(target.flavours.values())
    shown = [_row(p, catalog.note(p, virtiofs_ok)) for p in catalog.rows(packages, every, flavours)]
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
        "arch": p.arch,
        "page_size": p.page_size,
        "suite": p.suite,
        "size": p.size,
        "cached": p.cached,
        "downloads": list(p.downloads),
        "transport": "virtiofs" if p.needs_virtiofs else "9p",
        "note": note,
    }


@vm_cmd.command("fetch")
@click.argument("kernel", metavar="VERSION", shell_complete=complete.kernels)
@ARCH_OPTION
@PAGE_SIZE_OPTION
def vm_fetch(kernel: str, arch: Optional[str], page_size: Optional[str]) -> None:
    """Download and prepare a kernel (the newest package of that major.minor), and an arm64 guest's userland."""
    from mremapctl.backends import vm
    from mremapctl.backends.vm import userland
    from mremapctl.backends.vm.arch import get_arch
    from mremapctl.platforms import parse_page_size

    target = get_arch(arch)
    with Output().progress("vm") as progress:
        booted = vm.get(kernel, progress=progress.say, arch=target.name, page_size=parse_page_size(page_size))
        ul = None if target.host_userland else userland.prepare(vm.cache_dir(), progress.say)
    click.echo(
        f"ready: {booted.release} ({booted.packages}; {booted.describe}, {booted.transport}) in {booted.directory}"
    )
    if ul is not None:
        click.echo(f"ready: the guest's userland, {ul.describe}, in {ul.root}")


@vm_cmd.command("clean")
def vm_clean() -> None:
    """Delete the kernel cache."""
    from mremapctl.backends import vm
    from mremapctl.units import rough_size

    freed = vm.clean()
    click.echo(f"freed {rough_size(freed)} ({vm.cache_dir()})")
