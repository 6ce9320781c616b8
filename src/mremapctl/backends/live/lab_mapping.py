"""Anonymous or memfd mappings at an exact lab address, for live work that is not a scenario:
the regions a bench cell moves, the demo GC's heap. Populated on request.

Populating uses MADV_POPULATE_WRITE (5.14+): one call that faults every page in for writing,
so a populated region has a real page (not the shared zero page) behind every PTE, and the
move has page tables to carry. Older kernels get one written byte per page instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from mremapctl import flags as F
from mremapctl.backends.live.libc import Syscalls
from mremapctl.errors import Unavailable
from mremapctl.units import format_size, host_page_size

MADV_POPULATE_WRITE = 23
THP_ADVICE = {"system": None, "huge": F.MADVISE["hugepage"], "none": F.MADVISE["nohugepage"]}


@dataclass
class LabMapping:
    """A mapping of ``mapping`` kind at ``addr`` (``fd`` >= 0 for a memfd)."""

    sys: Syscalls
    mapping: str
    addr: int
    size: int
    fd: int = -1

    @classmethod
    def create(
        cls, sys: Syscalls, mapping: str, addr: int, size: int, file_size: int, name: str = "mremapctl-bench"
    ) -> LabMapping:
        """Map ``size`` bytes at exactly ``addr``; a memfd is made ``file_size`` long (room to grow)."""
        fd = -1
        flags = F.MAP_FIXED_NOREPLACE
        if mapping == "memfd":
            fd = os.memfd_create(name, os.MFD_CLOEXEC)
            os.ftruncate(fd, file_size)
            flags |= F.MAP_SHARED
        else:
            flags |= F.MAP_PRIVATE | F.MAP_ANONYMOUS
        ret, err = sys.call("mmap", addr, size, F.PROT_READ | F.PROT_WRITE, flags, fd, 0)
        if ret != addr:
            if fd >= 0:
                os.close(fd)
            raise Unavailable(f"{name}: mmap of {format_size(size)} {mapping} at {addr:#x} failed: {os.strerror(err)}")
        return cls(sys, mapping, addr, size, fd)

    def advise_thp(self, thp: str) -> None:
        advice = THP_ADVICE[thp]
        if advice is not None:
            self.sys.call("madvise", self.addr, self.size, advice)

    def populate(self, addr: int, size: int) -> None:
        """Fault in [addr, addr+size) for writing (the range must be mapped read-write)."""
        ret, err = self.sys.call("madvise", addr, size, MADV_POPULATE_WRITE)
        if ret == 0:
            return
        if err not in (22, 95):  # EINVAL/EOPNOTSUPP: a kernel without MADV_POPULATE_WRITE
            raise Unavailable(f"bench: populating {format_size(size)} at {addr:#x} failed: {os.strerror(err)}")
        _touch_pages(addr, size)

    def close(self, *spans: int) -> None:
        """Unmap the region's address and each extra span (a destination, a grown tail)."""
        self.sys.call("munmap", self.addr, self.size)
        for start, length in zip(spans[::2], spans[1::2]):
            self.sys.call("munmap", start, length)
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _touch_pages(addr: int, size: int) -> None:  # pragma: no cover - kernels before 5.14
    import ctypes

    for page in range(addr, addr + size, host_page_size()):
        ctypes.memset(page, 1, 1)


def huge_share(addr: int) -> Optional[float]:
    """The share of the mapping at ``addr`` that is mapped with huge PMDs (THP), from smaps."""
    prefix = f"{addr:x}-"
    try:
        with open("/proc/self/smaps") as f:
            text = f.read()
    except OSError:
        return None
    if text.startswith(prefix):
        start = 0
    else:
        start = text.find("\n" + prefix) + 1
        if start == 0:
            return None
    block = text[start:].split("\nVmFlags:", 1)[0]
    values = {}
    for line in block.splitlines()[1:]:
        key, _, rest = line.partition(":")
        fields = rest.split()
        if len(fields) == 2 and fields[1] == "kB":
            values[key] = int(fields[0]) * 1024
    size = values.get("Size", 0)
    huge = values.get("AnonHugePages", 0) + values.get("ShmemPmdMapped", 0)
    return huge / size if size else None
