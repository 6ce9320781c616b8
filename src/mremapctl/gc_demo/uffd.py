"""userfaultfd, by hand: the ioctl numbers, the structs, opening the fd and saying why it failed.

The ioctl numbers follow the asm-generic encoding (x86_64 and arm64):
``dir << 30 | size << 16 | type << 8 | nr``, dir 3 = read|write, 2 = read, type 0xAA.
Structs are little-endian u64 fields, laid out as in include/uapi/linux/userfaultfd.h:

=================  ========================================  =====  ============
ioctl              struct (fields, 8 bytes each)             size   number
=================  ========================================  =====  ============
UFFDIO_API         api, features, ioctls                      24    0xC018AA3F
UFFDIO_REGISTER    range.start, range.len, mode, ioctls       32    0xC020AA00
UFFDIO_COPY        dst, src, len, mode, copy (s64, out)       40    0xC028AA03
UFFDIO_CONTINUE    range.start, range.len, mode, mapped (out) 32    0xC020AA07
USERFAULTFD_IOC_NEW  (on /dev/userfaultfd; arg = open flags)   0    0x0000AA00
=================  ========================================  =====  ============

A message read from the fd (``struct uffd_msg``, 32 bytes): u8 event at 0 (0x12 = pagefault),
then for a page fault u64 flags at 8 (1 write, 2 wp, 4 minor) and u64 address at 16.
"""

from __future__ import annotations

import errno
import os
import struct
from typing import Iterator

from mremapctl.backends.live.libc import Syscalls
from mremapctl.backends.live.structs import (
    UFFDIO_API,
    UFFDIO_REGISTER,
    ioc,
    uffdio_api,
    uffdio_continue,
    uffdio_copy,
    uffdio_register,
)
from mremapctl.backends.live.userfaultfd import open_userfaultfd
from mremapctl.errors import Unavailable
from mremapctl.frozen import frozen

# UFFDIO_API and UFFDIO_REGISTER are the live backend's, and every struct is packed in structs.py;
# the demo adds the ioctls that resolve faults.
UFFDIO_COPY = ioc(3, 0x03, 40)
UFFDIO_CONTINUE = ioc(3, 0x07, 32)
IOCTL_BIT = {"copy": 1 << 0x03, "continue": 1 << 0x07}  # bits of uffdio_register.ioctls

MODE_MISSING, MODE_MINOR = 1, 4
FEATURE_MINOR_SHMEM = 1 << 10
EVENT_PAGEFAULT = 0x12
FLAG_WRITE, FLAG_MINOR = 1, 4
MSG = struct.Struct("<B7xQQ8x")  # event, flags, address


@frozen
class Fault:
    address: int
    flags: int


class Userfaultfd:
    """One userfaultfd for this process: API handshake, register, resolve by copy or continue."""

    def __init__(self, sys: Syscalls, fd: int) -> None:
        self.sys, self.fd = sys, fd

    @classmethod
    def open(cls, sys: Syscalls, features: int) -> Userfaultfd:
        uffd = cls(sys, open_fd(sys))
        api = uffdio_api(features)
        ret, err = sys.call("ioctl", uffd.fd, UFFDIO_API, sys.address(api))
        if ret == -1:
            uffd.close()
            missing = " (UFFD_FEATURE_MINOR_SHMEM needs Linux 5.14)" if features & FEATURE_MINOR_SHMEM else ""
            raise Unavailable(f"userfaultfd: UFFDIO_API refused features {features:#x}{missing}: {os.strerror(err)}")
        return uffd

    def register(self, addr: int, size: int, mode: int) -> int:
        """UFFDIO_REGISTER; returns the bitmask of ioctls the range now supports."""
        reg = uffdio_register(addr, size, mode)
        ret, err = self.sys.call("ioctl", self.fd, UFFDIO_REGISTER, self.sys.address(reg))
        if ret == -1:
            raise Unavailable(
                f"userfaultfd: UFFDIO_REGISTER of {addr:#x}+{size:#x} (mode {mode}) failed: {os.strerror(err)}"
            )
        ioctls: int = struct.unpack_from("<Q", reg, 24)[0]
        return ioctls

    def copy(self, dst: int, src_buffer: bytearray, length: int) -> int:
        """UFFDIO_COPY ``length`` bytes from our buffer to ``dst`` and wake the faulting threads; 0 or errno."""
        return self._ioctl(UFFDIO_COPY, uffdio_copy(dst, self.sys.address(src_buffer), length))

    def cont(self, addr: int, length: int) -> int:
        """UFFDIO_CONTINUE: map the page cache pages already there and wake; 0 or errno."""
        return self._ioctl(UFFDIO_CONTINUE, uffdio_continue(addr, length))

    def _ioctl(self, request: int, arg: bytearray) -> int:
        while True:
            ret, err = self.sys.call("ioctl", self.fd, request, self.sys.address(arg))
            if ret != -1:
                return 0
            if err != errno.EAGAIN:  # EAGAIN: the address space changed under us, retry
                return err

    def faults(self, data: bytes) -> Iterator[Fault]:
        """The page-fault messages in what one read of the fd returned."""
        for offset in range(0, len(data) - MSG.size + 1, MSG.size):
            event, flags, address = MSG.unpack_from(data, offset)
            if event == EVENT_PAGEFAULT:
                yield Fault(address, flags)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def open_fd(sys: Syscalls) -> int:
    """A userfaultfd that hears of kernel-mode faults too (the mutators read through write(2)), or
    Unavailable saying what was refused and how to allow it."""
    opened = open_userfaultfd(sys, os.O_CLOEXEC | os.O_NONBLOCK, user_mode_only=False, needs="the demo")
    if opened.fd < 0:
        raise Unavailable(opened.refusal or os.strerror(opened.errno))
    return opened.fd
