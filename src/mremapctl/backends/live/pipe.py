"""Copy bytes between our own memory and a private pipe, so that the kernel makes the access.

write(2) from an address reads it, read(2) into one writes it: a bad address is EFAULT, never a
signal, and a userfaultfd-registered page is waited for as a user access would wait for it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from array import array
from typing import Optional, Sequence, Tuple

from mremapctl.backends.live.libc import Syscalls

F_SETPIPE_SZ = 1031
PIPE_SIZE = 1 << 20  # fs.pipe-max-size's default
DEFAULT_PIPE_SIZE = 1 << 16


class MemoryPipe:
    """Copies between our memory and a private pipe, so that the kernel makes the access.

    A bad address is EFAULT, never a signal; a userfaultfd-registered page is waited for as a
    user access would wait for it (the demo GC's mutators rely on that).
    """

    def __init__(self, sys: Syscalls) -> None:
        self.sys = sys
        self.rfd, self.wfd = os.pipe()
        self.last_ns = 0  # the last read's copy alone, a fault's wait included
        try:  # a bigger pipe: a 1 GiB fill is 1,024 round trips, not 16,384
            self.capacity = fcntl.fcntl(self.wfd, F_SETPIPE_SZ, PIPE_SIZE)
        except OSError:
            self.capacity = DEFAULT_PIPE_SIZE

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

    def gather(self, addresses: Sequence[int]) -> Optional[bytes]:
        """The byte at each address, in one writev; None when any of them faulted (a pipe write
        that meets a fault keeps none of it, so the caller splits the batch to find which)."""
        iov = array("Q")
        for address in addresses:
            iov.extend((address, 1))
        buffer = bytearray(iov.tobytes())
        ret, _ = self.sys.call("writev", self.wfd, self.sys.address(buffer), len(addresses))
        data = self._take(max(ret, 0))
        return data if len(data) == len(addresses) else None

    def fill(self, addr: int, length: int, value: int) -> Tuple[int, int]:
        """Write ``value`` over [addr, addr+length), a pipe-full at a time: (bytes written, errno)."""
        chunk = bytes([value]) * min(length, self.capacity)
        done = 0
        while done < length:
            part = chunk[: min(len(chunk), length - done)]
            err = self.write(addr + done, part)
            if err:
                return done, err
            done += len(part)
        return done, 0

    def _take(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            data += os.read(self.rfd, count - len(data))
        return data

    def close(self) -> None:
        os.close(self.rfd)
        os.close(self.wfd)
