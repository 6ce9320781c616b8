"""The two kinds of thread of the compaction phase: mutators that touch the heap, and the handler
that resolves their faults from the moved copy.

Mutators read a page with write(2) into their own pipe: a kernel access, so a fault waits in
the userfaultfd like a user access would, but the thread never takes a signal if something
goes wrong (the write fails with EFAULT instead). cffi releases the GIL for the syscall, so
the handler runs while mutators are blocked in their faults.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import threading
import time
import zlib
from typing import Dict, List, Optional, Tuple

from mremapctl.backends.live.libc import Syscalls
from mremapctl.backends.live.pipe import MemoryPipe
from mremapctl.gc_demo.heap import PAGE, Marks, compact
from mremapctl.gc_demo.uffd import FLAG_MINOR, Fault, Userfaultfd

READ_MESSAGES = 64  # uffd_msg structs per read(2) of the fd


def direct_read(addr: int, length: int) -> bytes:
    """A user-space load (ctypes: no cffi needed). A bad address kills the process, so only for
    mappings that cannot fault into the userfaultfd: the heap before it is registered, and the
    from-space; everything else goes through a MemoryPipe."""
    return ctypes.string_at(addr, length)


def direct_write(addr: int, data: bytes) -> None:
    """A user-space store, with direct_read's caveat."""
    ctypes.memmove(addr, data, len(data))


class Mutator(threading.Thread):
    """Touches its pages once each, in its own order; records the time and a checksum per page."""

    def __init__(self, sys: Syscalls, heap: int, pages: List[int]) -> None:
        super().__init__(daemon=True)
        self.pipe = MemoryPipe(sys)
        self.heap, self.pages = heap, pages
        self.seen: Dict[int, int] = {}  # page → crc32 of what the access returned
        self.stalls: List[int] = []
        self.failed: List[Tuple[int, int]] = []  # (page, errno)

    def run(self) -> None:
        for page in self.pages:
            data, err = self.pipe.read(self.heap + page * PAGE, PAGE)
            if data is None:
                self.failed.append((page, err))
                continue
            self.stalls.append(self.pipe.last_ns)
            self.seen[page] = zlib.crc32(data)
        self.pipe.close()


class Handler(threading.Thread):
    """Serves page faults: builds the compacted page from the from-space, then COPY or CONTINUE."""

    def __init__(self, uffd: Userfaultfd, heap: int, from_space: int, marks: Marks, shared: bool) -> None:
        super().__init__(daemon=True)
        self.uffd, self.heap, self.from_space, self.marks, self.shared = uffd, heap, from_space, marks, shared
        self.buffer = bytearray(PAGE)  # UFFDIO_COPY's source: lives as long as the handler
        self.stop_r, self.stop_w = os.pipe()
        self.faults = self.minor = self.duplicates = 0
        self.service: List[int] = []
        self.errors: List[str] = []
        self.crashed: Optional[BaseException] = None

    def stop(self) -> None:
        os.write(self.stop_w, b"x")

    def run(self) -> None:
        try:
            self._serve()
        except BaseException as err:  # reported by the main thread, which then gives up
            self.crashed = err

    def _serve(self) -> None:
        poller = select.poll()
        poller.register(self.uffd.fd, select.POLLIN)
        poller.register(self.stop_r, select.POLLIN)
        while True:
            ready = dict(poller.poll())
            if self.uffd.fd not in ready:
                return  # only the stop pipe: every mutator is done
            try:
                data = os.read(self.uffd.fd, 32 * READ_MESSAGES)
            except BlockingIOError:
                continue
            for fault in self.uffd.faults(data):
                self.resolve(fault)

    def resolve(self, fault: Fault) -> None:
        start = time.perf_counter_ns()
        page = (fault.address - self.heap) // PAGE
        source = self.from_space + page * PAGE
        new = compact(direct_read(source, PAGE), self.marks.live_slots(page))
        if self.shared:  # compact in place in the page cache, then map it at the heap address
            direct_write(source, new)
            err = self.uffd.cont(self.heap + page * PAGE, PAGE)
        else:
            self.buffer[:] = new
            err = self.uffd.copy(self.heap + page * PAGE, self.buffer, PAGE)
        self.service.append(time.perf_counter_ns() - start)
        self.faults += 1
        self.minor += bool(fault.flags & FLAG_MINOR)
        if err == errno.EEXIST:
            self.duplicates += 1  # another thread's fault on the same page got there first
        elif err:
            self.errors.append(f"page {page}: {errno.errorcode.get(err, err)}")
