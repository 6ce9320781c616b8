"""The pipe trick's verdicts (SIGSEGV / SIGBUS / data) against what a real access does."""

from __future__ import annotations

import ctypes
import faulthandler
import os
import signal
from typing import Any, Callable

import pytest

from mremapctl import flags as F
from mremapctl.backends.live.libc import Syscalls
from mremapctl.backends.live.makers import Makers
from mremapctl.backends.live.memory import Memory, page_batches
from mremapctl.pages import describe_byte, page_starts
from mremapctl.primitives import MapRequest

ADDR = 0x100000000000
PAGE = os.sysconf("SC_PAGE_SIZE")


def in_child(live_backend: Any, setup: Callable[[Syscalls], None], addr: int) -> tuple:
    """In a fork (the lab freed): set up, then the pipe trick's verdict and a real read's signal."""

    def verdict_and_real_read(memory: Memory) -> tuple:
        verdict = memory.read_byte(addr)
        grandchild = os.fork()
        if grandchild == 0:  # pragma: no cover - grandchild
            faulthandler.disable()  # the crash is the expected answer, not news
            ctypes.string_at(addr, 1)
            os._exit(0)
        _, status = os.waitpid(grandchild, 0)
        real = signal.Signals(os.WTERMSIG(status)).name if os.WIFSIGNALED(status) else "read"
        return (verdict, real)

    return tuple(eval(in_child_memory(live_backend, setup, verdict_and_real_read)))


def anon(prot: int) -> Callable[[Syscalls], None]:
    def setup(sys_: Syscalls) -> None:
        flags = F.MAP_PRIVATE | F.MAP_ANONYMOUS | F.MAP_FIXED_NOREPLACE
        sys_.call("mmap", ADDR, PAGE, prot, flags, -1, 0)

    return setup


def short_file(sys_: Syscalls) -> None:
    req = MapRequest("f", "memfd", True, 2 * PAGE, F.PROT_READ, ADDR, file_size=PAGE)
    Makers(sys_).make(req, F.PROT_READ)


@pytest.mark.parametrize(
    ("setup", "addr", "expected"),
    [
        (anon(F.PROT_READ), ADDR, ("zero", "read")),
        (anon(F.PROT_NONE), ADDR, ("SIGSEGV", "SIGSEGV")),
        (anon(F.PROT_WRITE | F.PROT_READ), ADDR + PAGE, ("SIGSEGV", "SIGSEGV")),  # nothing mapped there
        (short_file, ADDR + PAGE, ("SIGBUS", "SIGBUS")),  # past the end of the memfd
        (short_file, ADDR, ("zero", "read")),
    ],
    ids=["readable", "prot-none", "unmapped", "beyond-eof", "inside-file"],
)
def test_verdicts_match_real_accesses(live_backend: Any, setup: Any, addr: int, expected: tuple) -> None:
    assert in_child(live_backend, setup, addr) == expected


def test_describe_byte() -> None:
    assert [describe_byte(b) for b in (0, 0x41, 0x7F, 0xDE, 0x20)] == [
        "zero",
        "data:A",
        "data:0x7f",
        "data:0xde",
        "data: ",
    ]


def in_child_memory(live_backend: Any, setup: Callable[[Syscalls], None], job: Callable[[Memory], object]) -> str:
    """In a fork (the lab freed): set up, then what ``job`` returns, as text."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            sys_ = Syscalls()
            sys_.call("munmap", live_backend.lab.start, live_backend.lab.size)
            setup(sys_)
            os.write(wfd, repr(job(Memory(sys_, PAGE))).encode())
        finally:
            os._exit(0)
    os.close(wfd)
    out = os.read(rfd, 100000).decode()
    os.waitpid(pid, 0)
    return out


def holes(sys_: Syscalls) -> None:
    """Five pages: readable, PROT_NONE, nothing, readable and written, a memfd page past its end."""
    flags = F.MAP_PRIVATE | F.MAP_ANONYMOUS | F.MAP_FIXED_NOREPLACE
    sys_.call("mmap", ADDR, PAGE, F.PROT_READ, flags, -1, 0)
    sys_.call("mmap", ADDR + PAGE, PAGE, F.PROT_NONE, flags, -1, 0)
    sys_.call("mmap", ADDR + 3 * PAGE, PAGE, F.PROT_READ | F.PROT_WRITE, flags, -1, 0)
    ctypes.memset(ADDR + 3 * PAGE, 0x41, 1)
    req = MapRequest("f", "memfd", True, PAGE, F.PROT_READ | F.PROT_WRITE, ADDR + 4 * PAGE, file_size=0)
    Makers(sys_).make(req, F.PROT_READ | F.PROT_WRITE)


def test_batched_reads_give_each_page_what_a_single_read_gives(live_backend: Any) -> None:
    def both(memory: Memory) -> object:
        single = [memory.read_byte(p) for p in page_starts(ADDR + 5, 5 * PAGE - 5, PAGE)]
        return memory.read_runs(ADDR + 5, 5 * PAGE - 5), single

    runs, single = eval(in_child_memory(live_backend, holes, both))
    assert single == ["zero", "SIGSEGV", "SIGSEGV", "data:A", "SIGBUS"]
    assert [value for value, count in runs for _ in range(count)] == single


def test_batched_writes_judge_each_page(live_backend: Any) -> None:
    runs = eval(in_child_memory(live_backend, holes, lambda memory: memory.write(ADDR + 3 * PAGE, 2 * PAGE, 0x42)))
    assert runs == [("ok", 1), ("SIGBUS", 1)]


def test_page_batches_start_where_a_read_starts() -> None:
    assert list(page_batches(0x1001, 0x2000, 0x1000, 2)) == [[0x1001, 0x2000], [0x3000]]
    assert [a for batch in page_batches(0x1001, 0x5000, 0x1000, 4) for a in batch] == page_starts(
        0x1001, 0x5000, 0x1000
    )
    assert list(page_batches(0x1000, 0, 0x1000, 4)) == []


def test_page_starts_cover_every_page_touched() -> None:
    assert page_starts(0x1000, 0x2000, 0x1000) == [0x1000, 0x2000]
    assert page_starts(0x1001, 0x1000, 0x1000) == [0x1001, 0x2000]
    assert page_starts(0x1000, 0, 0x1000) == []
