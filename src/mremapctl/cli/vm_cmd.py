"""``mremapctl vm``: the real kernels the vm backend can boot here."""

from __future__ import annotations

import click

from mremapctl.cli.output import Output, output_options


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
    from mremapctl.render.listings import render_vm_list, vm_list_json

    with output.progress("vm") as progress:
        packages = vm.available(progress=progress.say)
    output.show(vm_list_json(packages), render_vm_list, packages)


@vm_cmd.command("fetch")
@click.argument("kernel", metavar="VERSION")
def vm_fetch(kernel: str) -> None:
    """Download and prepare a kernel (the newest package of that major.minor)."""
    from mremapctl.backends import vm

    with Output().progress("vm") as progress:
        booted = vm.get(kernel, progress=progress.say)
    click.echo(f"ready: {booted.release} ({booted.package}) in {booted.directory}")


@vm_cmd.command("clean")
def vm_clean() -> None:
    """Delete the kernel cache."""
    from mremapctl.backends import vm
    from mremapctl.units import rough_size

    freed = vm.clean()
    click.echo(f"freed {rough_size(freed)} ({vm.cache_dir()})")
