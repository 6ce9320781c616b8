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
from mremapctl.gc_demo.heap import PAGE, Marks, compact
from mremapctl.gc_demo.uffd import FLAG_MINOR, Fault, Userfaultfd

READ_MESSAGES = 64  # uffd_msg structs per read(2) of the fd


class Memory:
    """Direct reads and writes (ctypes: no cffi needed) of mappings that cannot fault into the
    userfaultfd: the heap before it is registered, and the from-space."""

    @staticmethod
    def read(addr: int, length: int) -> bytes:
        return ctypes.string_at(addr, length)

    @staticmethod
    def write(addr: int, data: bytes) -> None:
        ctypes.memmove(addr, data, len(data))


class PipeReader:
    """Reads a page through write(2) into a private pipe: a kernel access that waits out a fault."""

    def __init__(self, sys: Syscalls) -> None:
        self.sys = sys
        self.rfd, self.wfd = os.pipe()

    def read_page(self, addr: int) -> Tuple[Optional[bytes], int]:
        """(the page, elapsed ns of the access) or (None, errno) when the access failed."""
        start = time.perf_counter_ns()
        ret, err = self.sys.call("write", self.wfd, addr, PAGE)
        elapsed = time.perf_counter_ns() - start
        if ret != PAGE:
            if ret > 0:
                os.read(self.rfd, ret)
            return None, err or errno.EIO
        data = b""
        while len(data) < PAGE:
            data += os.read(self.rfd, PAGE - len(data))
        return data, elapsed

    def close(self) -> None:
        os.close(self.rfd)
        os.close(self.wfd)


class Mutator(threading.Thread):
    """Touches its pages once each, in its own order; records the time and a checksum per page."""

    def __init__(self, sys: Syscalls, heap: int, pages: List[int]) -> None:
        super().__init__(daemon=True)
        self.reader = PipeReader(sys)
        self.heap, self.pages = heap, pages
        self.seen: Dict[int, int] = {}  # page → crc32 of what the access returned
        self.stalls: List[int] = []
        self.failed: List[Tuple[int, int]] = []  # (page, errno)

    def run(self) -> None:
        for page in self.pages:
            data, value = self.reader.read_page(self.heap + page * PAGE)
            if data is None:
                self.failed.append((page, value))
                continue
            self.stalls.append(value)
            self.seen[page] = zlib.crc32(data)
        self.reader.close()


class Handler(threading.Thread):
    """Serves page faults: builds the compacted page from the from-space, then COPY or CONTINUE."""

    def __init__(self, uffd: Userfaultfd, heap: int, from_space: int, marks: Marks, shared: bool) -> None:
        super().__init__(daemon=True)
        self.uffd, self.heap, self.from_space, self.marks, self.shared = uffd, heap, from_space, marks, shared
        self.memory = Memory()
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
        new = compact(self.memory.read(source, PAGE), self.marks.live_slots(page))
        if self.shared:  # compact in place in the page cache, then map it at the heap address
            self.memory.write(source, new)
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
