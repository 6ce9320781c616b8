"""The Android-style GC flow, live, in a lab child.

1. heap: a private anonymous or memfd-shared mapping at the lab's start, filled with objects;
2. pause: ``mremap(heap, size, size, MAYMOVE|FIXED|DONTUNMAP, from_space)`` — the heap's pages
   (their page tables, at PMD/PUD level where aligned) move to the from-space and the heap
   range stays mapped, empty; FIXED puts the from-space at a 1 GiB-aligned lab address, as
   ART reserves its from-space, so nothing lands outside the lab;
3. register: userfaultfd on the heap, MISSING for anon (resolved by UFFDIO_COPY), MINOR for
   memfd (the page cache still has every page: UFFDIO_CONTINUE maps it, after compacting it
   in place through the from-space mapping — the 5.13 change made DONTUNMAP work here);
4. compact: mutator threads touch every heap page once (each page belongs to one mutator),
   the handler thread resolves each fault;
5. check: every heap page, read again, holds exactly its compacted objects.
"""

from __future__ import annotations

import errno
import random
import statistics
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, List

from mremapctl import flags as F
from mremapctl.backends.live.lab_mapping import LabMapping
from mremapctl.backends.live.libc import Syscalls
from mremapctl.backends.live.pipe import MemoryPipe
from mremapctl.backends.live.timing import measure_overhead
from mremapctl.errors import Unavailable
from mremapctl.frozen import frozen
from mremapctl.gc_demo.heap import PAGE, Marks, expected_page, page_bytes
from mremapctl.gc_demo.threads import Handler, Mutator, direct_write
from mremapctl.gc_demo.uffd import FEATURE_MINOR_SHMEM, IOCTL_BIT, MODE_MINOR, MODE_MISSING, Userfaultfd
from mremapctl.lab import GiB, Lab

FROM_SPACE_OFFSET = 16 * GiB  # 1 GiB-aligned like the heap: the pause can move whole PMDs/PUDs
FILL_CHUNK = 256  # pages written per memmove when filling the heap
PROGRESS_SECONDS = 1.0


# The pause: the heap's pages move to the from-space, the heap stays mapped (5.7+; shared 5.13+).
PAUSE_FLAGS = F.MREMAP_MAYMOVE | F.MREMAP_FIXED | F.MREMAP_DONTUNMAP


@frozen
class GcConfig:
    heap: str = "anon"  # anon | memfd
    size: int = 64 << 20
    mutators: int = 4
    seed: int = 5


@dataclass
class GcResult:
    heap: str
    size: int
    kernel: str
    mutators: int
    heap_addr: int = 0
    from_space: int = 0
    live_objects: int = 0
    pause_ns: int = 0
    pause_raw_ns: int = 0
    register_ns: int = 0
    compact_ns: int = 0
    faults: int = 0
    minor_faults: int = 0
    duplicates: int = 0
    fault_ns_median: int = 0  # a mutator's faulting access minus the same access once resolved
    stall_ns_median: int = 0
    access_ns_median: int = 0
    service_ns_median: int = 0
    contents_ok: bool = False
    bad_pages: List[int] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return self.size // PAGE


def run_gc(lab: Lab, send: Callable[[Any], None], config: GcConfig) -> GcResult:
    """The whole flow in the calling (child) process; ``send`` reports progress to the parent."""
    import platform

    sys = Syscalls()
    result = GcResult(config.heap, config.size, platform.release(), config.mutators)
    shared = config.heap == "memfd"
    uffd = Userfaultfd.open(sys, FEATURE_MINOR_SHMEM if shared else 0)  # fail fast: before the heap
    result.heap_addr, result.from_space = lab.start, lab.start + FROM_SPACE_OFFSET
    heap = LabMapping.create(sys, config.heap, result.heap_addr, config.size, config.size, "mremapctl-gc-heap")
    _fill(result.heap_addr, result.pages)
    marks = Marks(result.pages, config.seed)
    result.live_objects = marks.live_objects()
    send(("phase", "filled"))
    _pause(sys, result)
    start = time.perf_counter_ns()
    mode, needed = (MODE_MINOR, "continue") if shared else (MODE_MISSING, "copy")
    ioctls = uffd.register(result.heap_addr, config.size, mode)
    result.register_ns = time.perf_counter_ns() - start
    if not ioctls & IOCTL_BIT[needed]:
        raise Unavailable(
            f"userfaultfd: the registered heap does not offer UFFDIO_{needed.upper()} (ioctls {ioctls:#x})"
        )
    _compact(sys, uffd, marks, result, config, send)
    _check(sys, marks, result)
    uffd.close()
    heap.close(result.from_space, config.size)
    return result


def _fill(addr: int, pages: int) -> None:
    for first in range(0, pages, FILL_CHUNK):
        count = min(FILL_CHUNK, pages - first)
        direct_write(addr + first * PAGE, page_bytes(first, count))


def _pause(sys: Syscalls, result: GcResult) -> None:
    """The stop-the-world mremap, timed like a bench cell (net of the timed path's own cost).

    No collection lands inside the timed call: the collector is off in lab children (child.py).
    """
    overhead = measure_overhead(sys, 1000).median_ns
    prepared = sys.prepare("mremap", result.heap_addr, result.size, result.size, PAUSE_FLAGS, result.from_space)
    ret, err, elapsed = sys.timed(prepared)
    if ret != result.from_space:
        raise Unavailable(f"the pause's mremap(MAYMOVE|FIXED|DONTUNMAP) failed: {errno.errorcode.get(err, err)}")
    result.pause_raw_ns, result.pause_ns = elapsed, max(0, elapsed - overhead)


def _compact(sys: Syscalls, uffd: Userfaultfd, marks: Marks, result: GcResult, config: GcConfig, send: Any) -> None:
    handler = Handler(uffd, result.heap_addr, result.from_space, marks, config.heap == "memfd")
    order = list(range(result.pages))
    random.Random(config.seed).shuffle(order)
    mutators = [Mutator(sys, result.heap_addr, order[i :: config.mutators]) for i in range(config.mutators)]
    start = time.perf_counter_ns()
    handler.start()
    for mutator in mutators:
        mutator.start()
    _wait(mutators, handler, send)
    result.compact_ns = time.perf_counter_ns() - start
    handler.stop()
    handler.join()
    result.faults, result.minor_faults, result.duplicates = handler.faults, handler.minor, handler.duplicates
    result.service_ns_median = round(statistics.median(handler.service)) if handler.service else 0
    stalls = [s for m in mutators for s in m.stalls]
    result.stall_ns_median = round(statistics.median(stalls)) if stalls else 0
    for mutator in mutators:
        result.problems += [f"page {p}: the access failed with {errno.errorcode.get(e, e)}" for p, e in mutator.failed]
        result.bad_pages += [p for p, crc in mutator.seen.items() if crc != zlib.crc32(expected_page(p, marks))]


def _wait(mutators: List[Mutator], handler: Handler, send: Callable[[Any], None]) -> None:
    """Join the mutators; give up (the child exits, freeing blocked threads) if the handler fails."""
    for mutator in mutators:
        while mutator.is_alive():
            mutator.join(PROGRESS_SECONDS)
            send(("phase", f"compacting: {handler.faults} faults served"))
            if handler.crashed or handler.errors:
                why = repr(handler.crashed) if handler.crashed else "; ".join(handler.errors[:3])
                raise Unavailable(f"the fault handler failed, mutators are stuck: {why}")


def _check(sys: Syscalls, marks: Marks, result: GcResult) -> None:
    """Read every heap page again (no faults now) and compare it with its expected compacted contents."""
    pipe = MemoryPipe(sys)
    access: List[int] = []
    bad = set(result.bad_pages)
    for page in range(result.pages):
        data, err = pipe.read(result.heap_addr + page * PAGE, PAGE)
        if data is None:
            result.problems.append(f"page {page}: the check's read failed with {errno.errorcode.get(err, err)}")
            continue
        access.append(pipe.last_ns)
        if data != expected_page(page, marks):
            bad.add(page)
    pipe.close()
    result.bad_pages = sorted(bad)
    result.access_ns_median = round(statistics.median(access)) if access else 0
    result.fault_ns_median = max(0, result.stall_ns_median - result.access_ns_median)
    result.contents_ok = not bad and not result.problems and len(access) == result.pages
