"""Syscall numbers and structure layouts for both supported architectures, against the
kernel's own tables (arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h)."""

from __future__ import annotations

import struct

import pytest

from mremapctl.backends.live import structs
from mremapctl.backends.live.syscalls import TABLES, table_for
from mremapctl.errors import Unavailable

EXPECTED = {
    "x86_64": {
        "mremap": 25,
        "mmap": 9,
        "munmap": 11,
        "mprotect": 10,
        "madvise": 28,
        "mincore": 27,
        "mlock": 149,
        "mlock2": 325,
        "memfd_create": 319,
        "memfd_secret": 447,
        "mseal": 462,
        "userfaultfd": 323,
        "perf_event_open": 298,
        "io_setup": 206,
        "shmget": 29,
        "shmat": 30,
        "shmctl": 31,
        "ioctl": 16,
        "read": 0,
        "write": 1,
        "readv": 19,
        "writev": 20,
        "getppid": 110,
        "capget": 125,
        "prlimit64": 302,
        "capset": 126,
    },
    "aarch64": {
        "mremap": 216,
        "mmap": 222,
        "munmap": 215,
        "mprotect": 226,
        "madvise": 233,
        "mincore": 232,
        "mlock": 228,
        "mlock2": 284,
        "memfd_create": 279,
        "memfd_secret": 447,
        "mseal": 462,
        "userfaultfd": 282,
        "perf_event_open": 241,
        "io_setup": 0,
        "shmget": 194,
        "shmat": 196,
        "shmctl": 195,
        "ioctl": 29,
        "read": 63,
        "write": 64,
        "readv": 65,
        "writev": 66,
        "getppid": 173,
        "capget": 90,
        "prlimit64": 261,
        "capset": 91,
    },
}


@pytest.mark.parametrize("arch", sorted(EXPECTED))
def test_syscall_numbers(arch: str) -> None:
    for name, number in EXPECTED[arch].items():
        assert TABLES[arch][name] == number, f"{arch} {name}"


def test_aliases_and_unknown_architectures() -> None:
    assert table_for("arm64") is TABLES["aarch64"] and table_for("amd64") is TABLES["x86_64"]
    with pytest.raises(Unavailable, match=r"no syscall table for architecture 'riscv64'.*--backend sim"):
        table_for("riscv64")


def test_perf_event_attr_v0() -> None:
    attr = structs.perf_attr()
    assert len(attr) == 64
    type_, size, config = struct.unpack_from("<IIQ", attr, 0)
    (bits,) = struct.unpack_from("<Q", attr, 40)
    assert (type_, size, config) == (1, 64, 9)  # PERF_TYPE_SOFTWARE, PERF_ATTR_SIZE_VER0, PERF_COUNT_SW_DUMMY
    assert bits == 0b1100001  # disabled, exclude_kernel, exclude_hv


def test_userfaultfd_structs_and_ioctls() -> None:
    assert len(structs.uffdio_api(0)) == 24 and len(structs.uffdio_register(0, 0, 0)) == 32
    assert struct.unpack("<QQQQ", structs.uffdio_register(0x1000, 0x2000, 4)) == (0x1000, 0x2000, 4, 0)
    assert (structs.UFFDIO_API, structs.UFFDIO_REGISTER) == (0xC018AA3F, 0xC020AA00)


def test_capabilities() -> None:
    assert struct.unpack("<Ii", structs.cap_header()) == (0x20080522, 0)
    data = struct.pack("<6I", 0xFFFFFFFF, 0xFFFFFFFF, 0, 0x1FF, 0x1FF, 0)
    cleared = struct.unpack("<6I", structs.cap_data_without(data, 14))  # CAP_IPC_LOCK
    assert cleared[:2] == (0xFFFFBFFF, 0xFFFFBFFF) and cleared[2:] == (0, 0x1FF, 0x1FF, 0)
    high = struct.unpack("<6I", structs.cap_data_without(data, 33))
    assert high[3:5] == (0x1FD, 0x1FD)


def test_userfaultfd_resolve_structs() -> None:
    assert struct.unpack("<QQQQq", structs.uffdio_copy(0x1000, 0x2000, 4096)) == (0x1000, 0x2000, 4096, 0, 0)
    assert struct.unpack("<QQQq", structs.uffdio_continue(0x1000, 4096)) == (0x1000, 4096, 0, 0)
