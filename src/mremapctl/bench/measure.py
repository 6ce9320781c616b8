"""The child side of ``bench``: map, populate, and time mremap calls back and forth in the lab.

A move cell moves its region to the destination and back again, so every sample finds the
same state (populated page tables stay populated) without paying to populate it again; the
first round trip is a discarded warm-up (it pays one-off costs such as splitting a huge
page). A DONTUNMAP move leaves the old range mapped, so it is unmapped, untimed, before the
move back. Grow and shrink alternate on one region (size → 2·size → size); when populated,
the grown tail is populated, untimed, before each shrink, so a shrink frees real pages.
"""

from __future__ import annotations

import errno
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from mremapctl import flags as F
from mremapctl.backends.live.lab_mapping import LabMapping, huge_share
from mremapctl.backends.live.libc import Syscalls
from mremapctl.backends.live.timing import measure_overhead
from mremapctl.bench.cases import IN_PLACE_OPS, Case, addresses
from mremapctl.frozen import frozen

MIN_SAMPLES = 4  # even when a cell's time budget runs out
CELL_OVERHEAD_SAMPLES = 1000  # the timer's own cost, measured again before each cell (~2 ms)


@frozen
class Settings:
    samples: int = 30  # timed calls per cell
    max_time: float = 1.0  # seconds per cell, once MIN_SAMPLES are in (0: no limit)
    thp: str = "system"  # system | huge (MADV_HUGEPAGE) | none (MADV_NOHUGEPAGE)
    warmup: int = 1  # round trips before sampling


@dataclass
class Measured:
    """Raw samples (ns, overhead included) of one cell, or the errno that stopped it."""

    case: Case
    raw: List[int] = field(default_factory=list)
    error: Optional[str] = None
    huge_share: Optional[float] = None
    overhead_ns: Optional[int] = None  # the timed path's median cost just before this cell


class _Budget:
    """When a cell has enough samples: the target, or the time budget once MIN_SAMPLES are in."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.start = time.monotonic()

    def done(self, count: int) -> bool:
        if count >= self.settings.samples:
            return True
        over = self.settings.max_time > 0 and time.monotonic() - self.start > self.settings.max_time
        return over and count >= MIN_SAMPLES


def measure_cases(lab_start: int, cases: List[Case], settings: Settings, send: Callable[[Any], None]) -> None:
    """Measure every cell, sending ("overhead", …) first, then ("cell", Measured) per cell.

    The timed path's own cost is measured again before every cell: on a shared or virtual
    machine it drifts by tens of percent over a run, and each cell subtracts its own. No
    collection lands inside a timed call: the collector is off in lab children (child.py).
    """
    sys = Syscalls()
    send(("overhead", measure_overhead(sys), sys.flavour))
    for group in cell_groups(cases):
        if group[0].op in IN_PLACE_OPS:
            results = measure_resize(sys, group, lab_start, settings)
        else:
            results = [measure_move(sys, group[0], lab_start, settings)]
        for result in results:
            send(("cell", result))


def cell_groups(cases: List[Case]) -> Iterator[List[Case]]:
    """Grow and shrink of the same region are measured together; every other cell alone."""
    resize: Dict[Tuple[str, int, str, bool], List[Case]] = {}
    for case in cases:
        if case.op in IN_PLACE_OPS:
            resize.setdefault((case.mapping, case.size, case.placement, case.populated), []).append(case)
        else:
            yield [case]
    yield from resize.values()


def measure_move(sys: Syscalls, case: Case, lab_start: int, settings: Settings) -> Measured:
    """Time MAYMOVE|FIXED (|DONTUNMAP) moves source → destination → source …"""
    src, dst = addresses(case, lab_start)
    size, dontunmap = case.size, case.op == "dontunmap"
    flags = F.MREMAP_MAYMOVE | F.MREMAP_FIXED | (F.MREMAP_DONTUNMAP if dontunmap else 0)
    region = _prepared_region(sys, case, src, case.size, settings)
    result = Measured(case, overhead_ns=measure_overhead(sys, CELL_OVERHEAD_SAMPLES).median_ns)
    legs = [
        (sys.prepare("mremap", src, size, size, flags, dst), dst, src),
        (sys.prepare("mremap", dst, size, size, flags, src), src, dst),
    ]
    budget, rounds = _Budget(settings), 0
    try:
        while not budget.done(len(result.raw)):
            for prepared, expect, left in legs:
                ret, err, ns = sys.timed(prepared)
                if ret != expect:
                    result.error = errno.errorcode.get(err, str(err))
                    return result
                if dontunmap:  # the old range stays mapped: free it for the way back
                    sys.call("munmap", left, size)
                if rounds >= settings.warmup:
                    result.raw.append(ns)
            rounds += 1
        result.huge_share = huge_share(src) if case.populated else None  # back at src after each round trip
        return result
    finally:
        region.close(dst, size)


def measure_resize(sys: Syscalls, group: List[Case], lab_start: int, settings: Settings) -> List[Measured]:
    """Time in-place grow (size → 2·size) and shrink (2·size → size) of one region, alternately."""
    first = group[0]
    src, _ = addresses(first, lab_start)
    size = first.size
    region = _prepared_region(sys, first, src, 2 * size, settings)
    overhead = measure_overhead(sys, CELL_OVERHEAD_SAMPLES).median_ns
    results = {
        op: Measured(Case(op, first.mapping, size, first.placement, first.populated), overhead_ns=overhead)
        for op in IN_PLACE_OPS
    }
    grow, shrink = sys.prepare("mremap", src, size, 2 * size, 0, 0), sys.prepare("mremap", src, 2 * size, size, 0, 0)
    budget, rounds = _Budget(settings), 0
    try:
        while not budget.done(len(results["grow"].raw)):
            ret, err, grow_ns = sys.timed(grow)
            if ret != src:
                return _failed(results, group, err)
            if first.populated:
                region.populate(src + size, size)
            ret, err, shrink_ns = sys.timed(shrink)
            if ret != src:
                return _failed(results, group, err)
            if rounds >= settings.warmup:
                results["grow"].raw.append(grow_ns)
                results["shrink"].raw.append(shrink_ns)
            rounds += 1
        share = huge_share(src) if first.populated else None
        for result in results.values():
            result.huge_share = share
        return [results[case.op] for case in group]
    finally:
        region.close(src + size, size)


def _prepared_region(sys: Syscalls, case: Case, addr: int, file_size: int, settings: Settings) -> LabMapping:
    region = LabMapping.create(sys, case.mapping, addr, case.size, file_size)
    region.advise_thp(settings.thp)
    if case.populated:
        region.populate(addr, case.size)
    return region


def _failed(results: Dict[str, Measured], group: List[Case], err: int) -> List[Measured]:
    for result in results.values():
        result.error = errno.errorcode.get(err, str(err))
    return [results[case.op] for case in group]
