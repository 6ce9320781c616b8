"""Read and write another part of our own address space without ever taking a signal.

Instead of touching memory directly (a fault would kill the process), bytes are passed
through a pipe with write(2)/read(2): the kernel copies to or from the user address and
returns EFAULT where a user access would have raised SIGSEGV or SIGBUS. Which of the two
it would have been is decided from the mapping, as the kernel's fault handler decides it.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from typing import List, Optional, Tuple

from mremapctl.backends.live.libc import Syscalls
from mremapctl.maps import find, parse_maps
from mremapctl.pages import describe_byte, page_starts
from mremapctl.results import SIGBUS, SIGSEGV, UFFD

PM_GUARD_REGION = 1 << 58  # /proc/PID/pagemap bit, 6.14+: a MADV_GUARD_INSTALL page
UFFD_WAIT_SECONDS = 0.3


class MemoryPipe:
    """Copies between our memory and a private pipe, so that the kernel makes the access.

    A bad address is EFAULT, never a signal; a userfaultfd-registered page is waited for as a
    user access would wait for it (the demo GC's mutators rely on that).
    """

    def __init__(self, sys: Syscalls) -> None:
        self.sys = sys
        self.rfd, self.wfd = os.pipe()
        self.last_ns = 0  # the last read's copy alone, a fault's wait included

    def read(self, addr: int, length: int) -> Tuple[Optional[bytes], int]:
        """(the bytes, 0), or (None, errno) when the kernel could not copy them all."""
        start = time.perf_counter_ns()
        ret, err = self.sys.call("write", self.wfd, addr, length)
        self.last_ns = time.perf_counter_ns() - start
        if ret != length:
            self._take(max(ret, 0))  # what was copied before the failure
            return None, err or errno.EIO
        return self._take(length), 0

    def write(self, addr: int, data: bytes) -> int:
        """Copy ``data`` to ``addr``: 0, or the errno (EFAULT where a user write would take a signal)."""
        os.write(self.wfd, data)
        ret, err = self.sys.call("read", self.rfd, addr, len(data))
        if ret == len(data):
            return 0
        self._take(len(data) - max(ret, 0))  # what the failed copy left in the pipe
        return err or errno.EFAULT

    def _take(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            data += os.read(self.rfd, count - len(data))
        return data

    def close(self) -> None:
        os.close(self.rfd)
        os.close(self.wfd)


class Memory:
    """Reads and writes of experiment memory as verdicts: a byte's description, "ok", or the signal."""

    def __init__(self, sys: Syscalls, page_size: int) -> None:
        self.sys = sys
        self.page = page_size
        self.pipe = MemoryPipe(sys)  # one page at a time: the default pipe size is enough
        self.uffd_armed = False  # a read may block in a userfaultfd: probe from a thread

    def fault_kind(self, addr: int, writing: bool) -> str:
        """The signal a user access at addr would get, given that the kernel said EFAULT."""
        with open("/proc/self/maps") as f:
            entries, _ = parse_maps(f.read(), [(addr, addr + 1)])
        entry = find(entries, addr)
        if entry is None or entry.perms[1 if writing else 0] == "-" or self._guarded(addr):
            return SIGSEGV
        return SIGBUS

    def _guarded(self, addr: int) -> bool:
        try:
            with open("/proc/self/pagemap", "rb") as f:
                f.seek(addr // self.page * 8)
                raw = f.read(8)
        except OSError:
            return False
        return len(raw) == 8 and bool(int.from_bytes(raw, "little") & PM_GUARD_REGION)

    def read_byte(self, addr: int) -> str:
        if self.uffd_armed:
            return self._read_byte_bounded(addr)
        return self._verdict(addr, *self.pipe.read(addr, 1))

    def _verdict(self, addr: int, data: Optional[bytes], err: int) -> str:
        if data is not None:
            return describe_byte(data[0])
        if err == errno.EFAULT:
            return self.fault_kind(addr, writing=False)
        return f"error:{errno.errorcode.get(err, err)}"

    def _read_byte_bounded(self, addr: int) -> str:
        """A read that may wait for a userfaultfd handler that does not exist: give it a moment."""
        box: List[Optional[str]] = [None]
        pipe = MemoryPipe(self.sys)  # a blocked copy holds its pipe's lock: never reuse this one

        def probe() -> None:
            box[0] = self._verdict(addr, *pipe.read(addr, 1))

        thread = threading.Thread(target=probe, daemon=True)
        thread.start()
        thread.join(UFFD_WAIT_SECONDS)
        if box[0] is None:
            return UFFD  # the thread stays blocked in the fault until the child exits
        pipe.close()
        return box[0]

    def read_pages(self, addr: int, size: int) -> List[str]:
        return [self.read_byte(p) for p in page_starts(addr, size, self.page)]

    def write(self, addr: int, size: int, value: int) -> List[str]:
        """Write ``value`` to every byte of [addr, addr+size); one result per page ("ok" or a signal)."""
        results: List[str] = []
        for start in page_starts(addr, size, self.page):
            end = min(addr + size, (start // self.page + 1) * self.page)
            results.append(self._write_span(start, end - start, value))
        return results

    def _write_span(self, addr: int, length: int, value: int) -> str:
        err = self.pipe.write(addr, bytes([value]) * length)
        if not err:
            return "ok"
        return self.fault_kind(addr, writing=True) if err == errno.EFAULT else f"error:{err}"
