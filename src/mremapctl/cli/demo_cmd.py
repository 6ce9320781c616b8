"""``mremapctl demo``: live demonstrations of what mremap is used for (``demo gc``)."""

from __future__ import annotations

import os
import sys
from typing import Any, Optional

import click

from mremapctl.cli import complete
from mremapctl.cli.output import Output, output_options
from mremapctl.cli.params import SECONDS, SIZE


@click.group("demo", context_settings={"max_content_width": 100})
def demo_cmd() -> None:
    """Live demonstrations of what mremap is for.

    \b
    Examples:
      mremapctl demo gc --heap anon      # the userfaultfd GC pause, UFFDIO_COPY
      mremapctl demo gc --heap memfd     # the same on a shared heap, UFFDIO_CONTINUE (5.13+)
    """


@demo_cmd.command("gc")
@click.option(
    "--heap",
    type=click.Choice(["anon", "memfd"]),
    default="anon",
    show_default=True,
    help="anon: private anonymous heap, MISSING faults, UFFDIO_COPY; memfd: shared heap, MINOR faults, "
    "UFFDIO_CONTINUE.",
)
@click.option("--size", type=SIZE, default="64M", show_default=True, help="Heap size (bytes, or 4p, 16K, 2M …).")
@click.option("--mutators", type=int, default=4, show_default=True, help="Mutator threads touching the heap.")
@click.option(
    "--backend",
    type=click.Choice(["auto", "live", "sim"]),
    default="auto",
    show_default=True,
    help="live: the real flow here; sim: the steps through the model of --kernel.",
)
@click.option(
    "--kernel",
    metavar="VERSION",
    shell_complete=complete.kernels,
    help="The kernel to simulate, e.g. 5.12 (implies sim unless it is this one).",
)
@output_options()
@click.option("--force", is_flag=True, help="Populate beyond the safe share (half) of MemAvailable.")
@click.option(
    "--timeout",
    type=SECONDS,
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="Kill the demo's child when it makes no progress for this long.",
)
def gc_cmd(output: Output, **opts: Any) -> None:
    """The Android userfaultfd GC flow: a heap of objects; a stop-the-world
    mremap(MAYMOVE|DONTUNMAP) of the heap to a from-space; userfaultfd on the heap (MISSING and
    UFFDIO_COPY for anon, MINOR and UFFDIO_CONTINUE for memfd); mutator threads touching the heap
    while a handler thread compacts each faulting page from the moved copy; then a check of every
    page. Reports the pause, the faults served, the time per fault and the check.

    \b
    Examples:
      mremapctl demo gc --heap anon                       # live: pause, faults, contents ok
      mremapctl demo gc --heap memfd --size 256M          # shared heap: minor faults, CONTINUE
      mremapctl demo gc --heap memfd --kernel 5.12        # sim: stops at the mremap, EINVAL
      mremapctl demo gc --heap anon --backend sim --kernel 5.6   # before 5.7: no DONTUNMAP at all
      mremapctl demo gc --json                            # {"kind": "gc", "pause_ns": …}
    """
    from mremapctl.expr import SizeExpr
    from mremapctl.gc_demo.live import GcConfig
    from mremapctl.gc_demo.run import check_shape

    config = GcConfig(heap=opts["heap"], size=SizeExpr(opts["size"]).resolve(4096), mutators=opts["mutators"])
    check_shape(config)
    if _simulated(opts["backend"], opts["kernel"]):
        _run_sim(output, config, opts["kernel"])
    else:
        _run_live(output, config, opts)


def _simulated(backend: str, kernel: Optional[str]) -> bool:
    """sim when asked, or when auto is given a --kernel that is not this machine's (as `try` does)."""
    from mremapctl.errors import BadInput
    from mremapctl.kernel import parse_version

    here = os.uname().release if sys.platform.startswith("linux") else None
    same = kernel is None or (here is not None and parse_version(kernel) == parse_version(here))
    if backend == "live" and not same:
        raise BadInput(f"--backend live runs this machine's kernel ({here}), not {kernel}; use --backend sim")
    return backend == "sim" or here is None or not same


def _run_sim(output: Output, config: Any, kernel: Optional[str]) -> None:
    from mremapctl.gc_demo.render import render_sim, sim_json
    from mremapctl.gc_demo.sim import walk

    if kernel is None:
        from mremapctl.kernel import NEWEST

        kernel = os.uname().release if sys.platform.startswith("linux") else f"{NEWEST[0]}.{NEWEST[1]}"
    result = walk(kernel, config.heap, config.size)
    output.show(sim_json(result), render_sim, result)


def _run_live(output: Output, config: Any, opts: Any) -> None:
    from mremapctl.errors import MremapctlError
    from mremapctl.gc_demo.render import live_json, render_live
    from mremapctl.gc_demo.run import run_live

    with output.progress("demo gc") as progress:
        result = run_live(config, force=opts["force"], idle_timeout=opts["timeout"], progress=progress.say)
    output.show(live_json(result), render_live, result)
    if not result.contents_ok or result.faults != result.pages:
        raise MremapctlError(
            f"demo gc: the check failed ({len(result.bad_pages)} pages differ, {result.faults} faults for "
            f"{result.pages} pages)"
        )
