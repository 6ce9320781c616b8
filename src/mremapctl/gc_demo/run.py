"""The parent side of ``demo gc`` live: check the request, run the flow in a lab child."""

from __future__ import annotations

from typing import Any, Callable, Optional

from mremapctl.errors import BadInput
from mremapctl.gc_demo.heap import PAGE
from mremapctl.gc_demo.live import FROM_SPACE_OFFSET, GcConfig, GcResult, run_gc
from mremapctl.lab import Lab
from mremapctl.limits import POPULATE_SHARE
from mremapctl.units import format_size

MAX_MUTATORS = 64


def check_shape(config: GcConfig) -> None:
    """Bad input (exit 2) for a heap that is not whole pages or too big for the lab (live and sim alike)."""
    if config.heap not in ("anon", "memfd"):
        raise BadInput(f"unknown heap {config.heap!r}: anon or memfd")
    if config.size <= 0 or config.size % PAGE:
        raise BadInput(f"bad --size {config.size}: the heap is a whole number of {format_size(PAGE)} pages")
    if config.size > FROM_SPACE_OFFSET // 2:
        raise BadInput(
            f"bad --size {format_size(config.size)}: at most {format_size(FROM_SPACE_OFFSET // 2)} in the lab"
        )
    if not 1 <= config.mutators <= MAX_MUTATORS:
        raise BadInput(f"bad --mutators {config.mutators}: 1 … {MAX_MUTATORS}")


def check_config(config: GcConfig, force: bool, available: Optional[int] = None) -> None:
    """check_shape, and a heap the live demo can populate without crowding the machine."""
    check_shape(config)
    # anon: the from-space keeps the old pages while UFFDIO_COPY fills new ones; memfd compacts in place
    need = config.size * (2 if config.heap == "anon" else 1)
    if force:
        return
    if available is None:
        from mremapctl.backends.live.makers import meminfo

        available = meminfo("MemAvailable")
    if need > available * POPULATE_SHARE:
        raise BadInput(
            f"refusing --size {format_size(config.size)}: the {config.heap} demo populates {format_size(need)}, "
            f"more than half of MemAvailable ({format_size(available)}); choose a smaller --size or --force"
        )


def run_live(
    config: GcConfig,
    *,
    force: bool = False,
    idle_timeout: float = 60.0,
    progress: Optional[Callable[[str], None]] = None,
) -> GcResult:
    """Run the flow live and return what it measured and found."""
    from mremapctl.backends.live.child import run_in_lab

    check_config(config, force)

    def work(lab: Lab, send: Callable[[Any], None]) -> GcResult:
        return run_gc(lab, send, config)

    def on_message(message: Any) -> None:
        if progress and message[0] == "phase":
            progress(message[1])

    result: GcResult = run_in_lab(work, what="demo gc", idle_timeout=idle_timeout, on_message=on_message)
    return result
