"""The few kernel structures the live backend passes, laid out by hand.

Their layouts are the same on x86_64 and aarch64 (both LP64, little-endian, no padding
differences for these all-u32/u64 structures), which is why one builder serves both.
"""

from __future__ import annotations

import struct

# perf_event_attr, PERF_ATTR_SIZE_VER0 (64 bytes): type u32, size u32, config u64,
# sample_period u64, sample_type u64, read_format u64, then the flags bitfield u64 at 40.
PERF_ATTR_SIZE_VER0 = 64
PERF_TYPE_SOFTWARE, PERF_COUNT_SW_DUMMY = 1, 9
PERF_FLAG_DISABLED, PERF_FLAG_EXCLUDE_KERNEL, PERF_FLAG_EXCLUDE_HV = 1 << 0, 1 << 5, 1 << 6

# userfaultfd: struct uffdio_api {u64 api, features, ioctls} (24 bytes);
# struct uffdio_register {struct uffdio_range {u64 start, len}; u64 mode, ioctls} (32 bytes);
# struct uffdio_copy {u64 dst, src, len, mode; s64 copy} (40 bytes);
# struct uffdio_continue {struct uffdio_range range; u64 mode; s64 mapped} (32 bytes).
UFFD_API = 0xAA


def ioc(direction: int, nr: int, size: int, kind: int = 0xAA) -> int:
    """The _IOC encoding of asm-generic/ioctl.h (x86_64 and aarch64 share it); direction 3 is _IOWR.

    >>> hex(ioc(3, 0x3F, 24)), hex(ioc(3, 0x00, 32)), hex(ioc(3, 0x03, 40)), hex(ioc(3, 0x07, 32))
    ('0xc018aa3f', '0xc020aa00', '0xc028aa03', '0xc020aa07')
    """
    return direction << 30 | size << 16 | kind << 8 | nr


UFFDIO_API = ioc(3, 0x3F, 24)
UFFDIO_REGISTER = ioc(3, 0x00, 32)

# capget/capset: struct __user_cap_header_struct {u32 version; s32 pid} and two
# struct __user_cap_data_struct {u32 effective, permitted, inheritable} for version 3.
CAP_VERSION_3 = 0x20080522


def perf_attr() -> bytearray:
    """A disabled software dummy event, user space only: enough to map a ring buffer."""
    attr = bytearray(PERF_ATTR_SIZE_VER0)
    struct.pack_into("<IIQ", attr, 0, PERF_TYPE_SOFTWARE, PERF_ATTR_SIZE_VER0, PERF_COUNT_SW_DUMMY)
    struct.pack_into("<Q", attr, 40, PERF_FLAG_DISABLED | PERF_FLAG_EXCLUDE_KERNEL | PERF_FLAG_EXCLUDE_HV)
    return attr


def uffdio_api(features: int) -> bytearray:
    return bytearray(struct.pack("<QQQ", UFFD_API, features, 0))


def uffdio_register(start: int, length: int, mode: int) -> bytearray:
    return bytearray(struct.pack("<QQQQ", start, length, mode, 0))


def uffdio_copy(dst: int, src: int, length: int) -> bytearray:
    """Copy and wake (mode 0); the kernel writes the bytes copied, or an errno, into ``copy``."""
    return bytearray(struct.pack("<QQQQq", dst, src, length, 0, 0))


def uffdio_continue(start: int, length: int) -> bytearray:
    """Map the page cache's pages and wake (mode 0); the kernel writes ``mapped`` back."""
    return bytearray(struct.pack("<QQQq", start, length, 0, 0))


def cap_header() -> bytearray:
    return bytearray(struct.pack("<Ii", CAP_VERSION_3, 0))


def cap_data_without(data: bytes | bytearray, cap: int) -> bytearray:
    """The capability data with ``cap`` cleared from the effective and permitted sets."""
    out = bytearray(data)
    word, bit = divmod(cap, 32)
    for field in (0, 1):  # effective, permitted
        offset = word * 12 + field * 4
        (value,) = struct.unpack_from("<I", out, offset)
        struct.pack_into("<I", out, offset, value & ~(1 << bit))
    return out


def rlimit64(soft: int, hard: int) -> bytearray:
    """struct rlimit64 {u64 rlim_cur, rlim_max}; 2^64-1 is RLIM64_INFINITY."""
    return bytearray(struct.pack("<QQ", soft, hard))
