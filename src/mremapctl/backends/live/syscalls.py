"""Syscall numbers for the calls libc may not wrap (or wraps differently), per architecture.

Raw syscalls pass every bit through untouched (undefined mremap flags included) and do not
depend on the target's libc being new enough to know mseal or memfd_secret.
"""

from __future__ import annotations

import os
import sys
from typing import Dict

from mremapctl.errors import Unavailable

# x86_64: arch/x86/entry/syscalls/syscall_64.tbl; aarch64: the asm-generic table.
TABLES: Dict[str, Dict[str, int]] = {
    "x86_64": {
        "read": 0,
        "write": 1,
        "readv": 19,
        "writev": 20,
        "getppid": 110,  # the no-op bench and demo gc time to know the timed path's own cost
        "mmap": 9,
        "mprotect": 10,
        "munmap": 11,
        "ioctl": 16,
        "mremap": 25,
        "mincore": 27,
        "madvise": 28,
        "shmget": 29,
        "shmat": 30,
        "shmctl": 31,
        "mlock": 149,
        "munlock": 150,
        "capget": 125,
        "capset": 126,
        "io_setup": 206,
        "io_destroy": 207,
        "perf_event_open": 298,
        "memfd_create": 319,
        "userfaultfd": 323,
        "mlock2": 325,
        "prlimit64": 302,
        "memfd_secret": 447,
        "mseal": 462,
    },
    "aarch64": {
        "read": 63,
        "write": 64,
        "readv": 65,
        "writev": 66,
        "getppid": 173,  # (see timing.py)
        "mmap": 222,
        "mprotect": 226,
        "munmap": 215,
        "ioctl": 29,
        "mremap": 216,
        "mincore": 232,
        "madvise": 233,
        "shmget": 194,
        "shmat": 196,
        "shmctl": 195,
        "mlock": 228,
        "munlock": 229,
        "capget": 90,
        "capset": 91,
        "io_setup": 0,
        "io_destroy": 1,
        "perf_event_open": 241,
        "memfd_create": 279,
        "userfaultfd": 282,
        "mlock2": 284,
        "prlimit64": 261,
        "memfd_secret": 447,
        "mseal": 462,
    },
}
ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}


def table_for(machine: str) -> Dict[str, int]:
    arch = ALIASES.get(machine, machine)
    if arch not in TABLES:
        raise Unavailable(
            f"live backend: no syscall table for architecture {machine!r} "
            f"(known: {', '.join(TABLES)}); use --backend sim"
        )
    return TABLES[arch]


def host_table() -> Dict[str, int]:
    if not sys.platform.startswith("linux"):  # bench and demo gc reach here without backends.select
        raise Unavailable(f"live backend unavailable: this is {sys.platform}, not Linux")
    return table_for(os.uname().machine)
