"""The timed syscall path's own cost, to subtract from what it measures.

``Syscalls.timed`` holds the libffi call, the kernel entry and exit, and the kernel's work.
Everything but the kernel's work is the same for every syscall with the same arguments, so
it is measured with a no-op syscall (getppid, which ignores the five extra arguments)
through the same path.
"""

from __future__ import annotations

from typing import List

from mremapctl.backends.live.libc import Syscalls
from mremapctl.frozen import frozen

OVERHEAD_SAMPLES = 4000


@frozen
class Overhead:
    """The per-call cost of the timed path itself, in ns (what a no-op syscall measures)."""

    min_ns: int
    median_ns: int
    p90_ns: int


def measure_overhead(sys: Syscalls, samples: int = OVERHEAD_SAMPLES) -> Overhead:
    """Time getppid with five arguments, as many as mremap passes, through ``sys.timed``."""
    prepared = sys.prepare("getppid", 0, 0, 0, 0, 0)
    for _ in range(samples // 4):  # warm up: a fresh fork pays copy-on-write faults at first
        sys.timed(prepared)
    times: List[int] = sorted(sys.timed(prepared)[2] for _ in range(samples))
    return Overhead(times[0], times[len(times) // 2], times[min(len(times) - 1, len(times) * 9 // 10)])
