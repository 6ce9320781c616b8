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
from typing import List, Optional

from mremapctl.backends.live.libc import Syscalls
from mremapctl.maps import find, parse_maps
from mremapctl.pages import describe_byte, page_starts
from mremapctl.results import SIGBUS, SIGSEGV, UFFD

PM_GUARD_REGION = 1 << 58  # /proc/PID/pagemap bit, 6.14+: a MADV_GUARD_INSTALL page
UFFD_WAIT_SECONDS = 0.3


class Memory:
    def __init__(self, sys: Syscalls, page_size: int) -> None:
        self.sys = sys
        self.page = page_size
        self.rfd, self.wfd = os.pipe()  # one page at a time: the default pipe size is enough
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
        ret, err = self.sys.call("write", self.wfd, addr, 1)
        if ret == 1:
            return describe_byte(os.read(self.rfd, 1)[0])
        if err == errno.EFAULT:
            return self.fault_kind(addr, writing=False)
        return f"error:{errno.errorcode.get(err, err)}"

    def _read_byte_bounded(self, addr: int) -> str:
        """A read that may wait for a userfaultfd handler that does not exist: give it a moment."""
        box: List[Optional[str]] = [None]
        rfd, wfd = os.pipe()  # a blocked copy holds its pipe's lock: never reuse this one

        def probe() -> None:
            ret, err = self.sys.call("write", wfd, addr, 1)
            if ret == 1:
                box[0] = describe_byte(os.read(rfd, 1)[0])
            else:
                box[0] = self.fault_kind(addr, writing=False) if err == errno.EFAULT else f"error:{err}"

        thread = threading.Thread(target=probe, daemon=True)
        thread.start()
        thread.join(UFFD_WAIT_SECONDS)
        if box[0] is None:
            return UFFD  # the thread stays blocked in the fault until the child exits
        os.close(rfd)
        os.close(wfd)
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
        os.write(self.wfd, bytes([value]) * length)
        ret, err = self.sys.call("read", self.rfd, addr, length)
        if ret == length:
            return "ok"
        left = length - max(ret, 0)
        while left:  # drain what the failed copy left in the pipe
            left -= len(os.read(self.rfd, left))
        return self.fault_kind(addr, writing=True) if err in (errno.EFAULT, 0) else f"error:{err}"
