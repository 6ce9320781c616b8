"""``mremapctl vm``: the real kernels the vm backend can boot here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

import click

from mremapctl.cli.common import Output

if TYPE_CHECKING:
    from mremapctl.backends.vm.versions import KernelPackage


def _progress(line: str) -> None:
    click.echo(f"  {line}", err=True)


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
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--color/--no-color", default=None, help="Force colours on or off.")
def vm_list(every: bool, as_json: bool, color: Optional[bool]) -> None:
    """The newest kernel of each series obtainable here (--all: every release), newest first."""
    from mremapctl.backends import vm
    from mremapctl.backends.vm import catalog
    from mremapctl.backends.vm.virtiofs import find_virtiofsd

    virtiofs_ok = find_virtiofsd() is not None
    shown = [_row(p, catalog.note(p, virtiofs_ok)) for p in catalog.rows(vm.available(progress=_progress), every)]
    output = Output(json=as_json, color=color)
    if as_json:
        output.emit_json(shown)
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("series", "kernel", "package", "suite", "MB", "cached", "note"):
        table.add_column(column, justify="right" if column == "MB" else "left")
    for r in shown:
        size = f"{r['size'] / 1e6:.0f}" if r["size"] else "?"
        cached = "yes" if r["cached"] else ""
        table.add_row(r["series"], r["upstream"], r["package"], r["suite"], size, cached, r["note"])
    output.console().print(table)


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
@click.argument("kernel", metavar="VERSION")
def vm_fetch(kernel: str) -> None:
    """Download and prepare a kernel (the newest package of that major.minor)."""
    from mremapctl.backends import vm

    booted = vm.get(kernel, progress=_progress)
    click.echo(f"ready: {booted.release} ({booted.package}, {booted.transport}) in {booted.directory}")


@vm_cmd.command("clean")
def vm_clean() -> None:
    """Delete the kernel cache."""
    from mremapctl.backends import vm

    freed = vm.clean()
    click.echo(f"freed {freed / (1 << 20):.0f} MiB ({vm.cache_dir()})")
