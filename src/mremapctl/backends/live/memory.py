"""Read and write another part of our own address space without ever taking a signal.

Instead of touching memory directly (a fault would kill the process), bytes are passed
through a pipe with write(2)/read(2): the kernel copies to or from the user address and
returns EFAULT where a user access would have raised SIGSEGV or SIGBUS. Which of the two
it would have been is decided from the mapping, as the kernel's fault handler decides it.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from array import array
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

from mremapctl.backends.live.libc import Syscalls
from mremapctl.backends.live.pipe import MemoryPipe
from mremapctl.maps import find, parse_maps, parse_smaps
from mremapctl.pages import describe_byte
from mremapctl.results import OK, SIGBUS, SIGSEGV, UFFD, MapEntry, PageRuns, add_run

PM_GUARD_REGION = 1 << 58  # /proc/PID/pagemap bit, 6.14+: a MADV_GUARD_INSTALL page
UFFD_WAIT_SECONDS = 0.3
IOV_BATCH = 1024  # pages read per writev (IOV_MAX)


class Memory:
    """Reads and writes of experiment memory as verdicts: a byte's description, "ok", or the signal."""

    def __init__(self, sys: Syscalls, page_size: int) -> None:
        self.sys = sys
        self.page = page_size
        self.pipe = MemoryPipe(sys)  # one page at a time: the default pipe size is enough
        self.uffd_armed = False  # a read may block in a userfaultfd: probe from a thread
        self.uffd_user_mode_only = False  # the userfaultfd hears of user-space faults only (unprivileged)

    def fault_kind(self, addr: int, writing: bool) -> str:
        """The signal a user access at addr would get, given that the kernel said EFAULT."""
        with open("/proc/self/maps") as f:
            entries, _ = parse_maps(f.read(), [(addr, addr + 1)])
        return self._signal(addr, writing, find(entries, addr))

    def _signal(self, addr: int, writing: bool, entry: Optional[MapEntry]) -> str:
        """As the fault handler decides: no mapping, no permission or a guard page is SIGSEGV."""
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
        return self._read_one(addr, lambda: self.fault_kind(addr, writing=False))

    def _read_one(self, addr: int, on_fault: Callable[[], str], pipe: Optional[MemoryPipe] = None) -> str:
        data, err = (pipe or self.pipe).read(addr, 1)
        if data is not None:
            return describe_byte(data[0])
        return on_fault() if err == errno.EFAULT else f"error:{errno.errorcode.get(err, err)}"

    def _read_in(self, addr: int, entry: Optional[MapEntry]) -> str:
        """A read where the mapping is already known (None: nothing is mapped there)."""
        return self._read_one(addr, lambda: self._signal(addr, False, entry))

    def _read_byte_bounded(self, addr: int) -> str:
        """A read that may wait for a userfaultfd handler that does not exist: give it a moment."""
        box: List[Optional[str]] = [None]
        pipe = MemoryPipe(self.sys)  # a blocked copy holds its pipe's lock: never reuse this one

        def probe() -> None:
            box[0] = self._read_one(addr, lambda: self.fault_kind(addr, writing=False), pipe)

        thread = threading.Thread(target=probe, daemon=True)
        thread.start()
        thread.join(UFFD_WAIT_SECONDS)
        if box[0] is None:
            return UFFD  # the thread stays blocked in the fault until the child exits
        pipe.close()
        if box[0] == SIGBUS and self.uffd_user_mode_only and self._registered(addr):
            return UFFD  # refused to the kernel's read; a user-space access would wait for the handler
        return box[0]

    def _registered(self, addr: int) -> bool:
        """Whether the mapping at addr is registered for missing or minor faults (VmFlags um, ui)."""
        with open("/proc/self/smaps") as f:
            entries, _ = parse_smaps(f.read(), [(addr, addr + 1)])
        entry = find(entries, addr)
        return entry is not None and bool({"um", "ui"} & set(entry.vm_flags or ()))

    def read_runs(self, addr: int, size: int) -> PageRuns:
        """The first byte of each page touched, as runs.

        Pages are read IOV_BATCH to a system call. Where every page must read alike, one page is
        read and its answer counted for all, so an untouched 16 GiB costs a few reads, not four
        million faults: where nothing is mapped, where the mapping forbids reading, where private
        anonymous memory has no page yet, and past the end of a file where no private copy is.
        """
        runs: PageRuns = []
        if not self.uffd_armed and pages_touched(addr, addr + size, self.page) <= IOV_BATCH:
            data = self.pipe.gather(list(next(page_batches(addr, size, self.page, IOV_BATCH), [])))
            if data is not None:  # the usual small read, every page readable: one system call
                add_byte_runs(runs, data)
                return runs
        if self.uffd_armed and not pagemap_readable():  # no page known to be there: each may wait
            for batch in page_batches(addr, size, self.page, IOV_BATCH):
                for page in batch:
                    add_run(runs, self.read_byte(page), 1)
            return runs
        for start, end, entry in self._spans(addr, size):
            if entry is None or _inaccessible(entry):  # every page faults alike
                add_run(runs, self._read_in(start, entry), pages_touched(start, end, self.page))
                continue
            past_end = start if _private_anonymous(entry) else self._file_end(entry, start, end)
            for lo, hi, hole in self._holes_and_pages(start, end):
                if not hole:  # a page that is there: a read takes no fault
                    self._read_pages(lo, hi, entry, runs)
                    continue
                for part_lo, part_hi, alike in self._hole_parts(lo, hi, past_end):
                    self._read_hole(part_lo, part_hi, entry, alike, runs)
        return runs

    def _hole_parts(self, lo: int, hi: int, past_end: int) -> Iterator[Tuple[int, int, bool]]:
        """A hole cut where its pages stop answering alike: (lo, hi, alike).

        Past the file's end (or in private anonymous memory) every page reads as the first does. With
        a userfaultfd registered, a page in the page cache (mincore) takes a minor fault and one that
        is not a missing fault: the two kinds are told apart, so that one read can judge each part.
        """
        cut = min(max(lo, past_end), hi)
        if self.uffd_armed and cut > lo:
            for part_lo, part_hi in self._residency_runs(lo, cut):
                yield part_lo, part_hi, False
        elif cut > lo:
            yield lo, cut, False
        if cut < hi:
            yield cut, hi, True

    def _read_hole(self, lo: int, hi: int, entry: MapEntry, alike: bool, runs: PageRuns) -> None:
        """The first page alone; the rest counted with it when they must answer alike (or wait for the
        same userfaultfd), else read."""
        first = self.read_byte(lo) if self.uffd_armed else self._read_in(lo, entry)
        rest = pages_touched(lo, hi, self.page) - 1
        add_run(runs, first, 1)
        next_page = (lo // self.page + 1) * self.page
        if first == UFFD or alike:
            add_run(runs, first, rest)
        elif rest:
            self._read_pages(next_page, hi, entry, runs)

    def _residency_runs(self, start: int, end: int) -> Iterator[Tuple[int, int]]:
        """[start, end) cut where page-cache residency (mincore) changes."""
        first = start // self.page * self.page
        count = -(-(end - first) // self.page)
        vector = bytearray(count)
        ret, _ = self.sys.call("mincore", first, count * self.page, self.sys.address(vector))
        if ret != 0:  # no answer: judge page by page
            for page in range(first, end, self.page):
                yield max(page, start), min(end, page + self.page)
            return
        at = 0
        for i in range(1, count + 1):
            if i == count or (vector[i] & 1) != (vector[at] & 1):
                yield max(start, first + at * self.page), min(end, first + i * self.page)
                at = i

    def _read_pages(self, start: int, end: int, entry: MapEntry, runs: PageRuns) -> None:
        for batch in page_batches(start, end - start, self.page, IOV_BATCH):
            self._read_batch(batch, entry, runs)

    def _read_batch(self, batch: Sequence[int], entry: Optional[MapEntry], runs: PageRuns) -> None:
        """One writev for the batch; where it faults, halves until each faulting page is alone."""
        data = self.pipe.gather(batch)
        if data is not None:
            add_byte_runs(runs, data)
        elif len(batch) == 1:
            add_run(runs, self._read_in(batch[0], entry), 1)  # the fault, judged as a single read judges it
        else:
            half = len(batch) // 2
            self._read_batch(batch[:half], entry, runs)
            self._read_batch(batch[half:], entry, runs)

    def _holes_and_pages(self, start: int, end: int) -> Iterator[Tuple[int, int, bool]]:
        """[start, end) as pagemap runs: (lo, hi, True for a hole: no page there)."""
        if start >= end:
            return
        first = start // self.page
        for lo, hi, hole in pagemap_runs(first, -(-end // self.page)):
            yield start if lo == first else lo * self.page, min(end, hi * self.page), hole

    def _spans(self, addr: int, size: int) -> Iterator[Tuple[int, int, Optional[MapEntry]]]:
        """[addr, addr+size) cut where mappings begin and end: (start, end, the mapping or None)."""
        with open("/proc/self/maps") as f:
            entries, _ = parse_maps(f.read(), [(addr, addr + size)])
        return mapping_spans(addr, size, entries)

    def _file_end(self, entry: MapEntry, start: int, end: int) -> int:
        """Where in [start, end) the mapped file's pages end; past it a missing page cannot be made.

        Reads and writes there fault alike (SIGBUS), so one page is asked for the whole hole.
        """
        try:  # map_files needs CAP_SYS_ADMIN (CAP_CHECKPOINT_RESTORE from 5.9): without it, ask every page
            st = os.stat(f"/proc/self/map_files/{entry.start:x}-{entry.end:x}")
        except OSError:
            return end
        if not stat.S_ISREG(st.st_mode):
            return end  # a device's size says nothing about its pages
        pages = -(-st.st_size // self.page)
        return max(start, min(end, entry.start + pages * self.page - entry.offset))

    def write(self, addr: int, size: int, value: int) -> PageRuns:
        """Write ``value`` to every byte of [addr, addr+size); per page "ok" or the signal, as runs."""
        runs: PageRuns = []
        if addr % self.page == 0 and size <= self.pipe.capacity and self.pipe.fill(addr, size, value)[1] == 0:
            add_run(runs, OK, pages_touched(addr, addr + size, self.page))  # the usual small write: it all took
            return runs
        for start, end, entry in self._spans(addr, size):
            if entry is None or "w" not in entry.perms:  # every page faults alike
                add_run(runs, self._write_span(start, 1, value, entry), pages_touched(start, end, self.page))
                continue
            past_end = end if _private_anonymous(entry) else self._file_end(entry, start, end)
            self._write_pages(start, past_end, value, entry, runs)
            for lo, hi, hole in self._holes_and_pages(past_end, end):
                if hole:  # past the file's end a missing page cannot be made: one write judges them all
                    add_run(runs, self._write_span(lo, 1, value, entry), pages_touched(lo, hi, self.page))
                else:
                    self._write_pages(lo, hi, value, entry, runs)
        return runs

    def _write_pages(self, addr: int, end: int, value: int, entry: Optional[MapEntry], runs: PageRuns) -> None:
        """Fill [addr, end) a pipe-full at a time; a page that faults is judged alone, then past it."""
        if addr % self.page and addr < end:  # a first page written from its middle: on its own
            page_end = min(end, (addr // self.page + 1) * self.page)
            add_run(runs, self._write_span(addr, page_end - addr, value, entry), 1)
            addr = page_end
        while addr < end:
            written, _ = self.pipe.fill(addr, end - addr, value)  # whole pipe-fulls: page-aligned
            add_run(runs, OK, -(-written // self.page))
            addr += written
            if addr < end:
                page_end = min(end, addr + self.page)
                add_run(runs, self._write_span(addr, page_end - addr, value, entry), 1)
                addr = page_end

    def _write_span(self, addr: int, length: int, value: int, entry: Optional[MapEntry]) -> str:
        err = self.pipe.write(addr, bytes([value]) * length)
        if not err:
            return OK
        return self._signal(addr, True, entry) if err == errno.EFAULT else f"error:{err}"


def pages_touched(start: int, end: int, page: int) -> int:
    return (end - 1) // page - start // page + 1 if end > start else 0


def mapping_spans(addr: int, size: int, entries: Sequence[MapEntry]) -> Iterator[Tuple[int, int, Optional[MapEntry]]]:
    """[addr, addr+size) cut at mapping boundaries: (start, end, the mapping or None for a hole)."""
    at, end = addr, addr + size
    for entry in sorted(entries, key=lambda e: e.start):
        if entry.end <= at or entry.start >= end:
            continue
        if entry.start > at:
            yield at, entry.start, None
        yield max(at, entry.start), min(end, entry.end), entry
        at = min(end, entry.end)
    if at < end:
        yield at, end, None


def _inaccessible(entry: MapEntry) -> bool:
    """PROT_NONE: every access faults (an execute-only mapping may still be readable on x86)."""
    return entry.perms.startswith("---")


def _private_anonymous(entry: MapEntry) -> bool:
    """Memory with no page cache behind it: a page that is not there reads as zero."""
    return entry.perms.endswith("p") and entry.inode == 0 and (not entry.path or entry.path.startswith("["))


PM_HOLE_BITS = (1 << 55) | (1 << 57)  # soft-dirty and uffd-wp may be set on an empty entry
PAGEMAP_CHUNK = 1 << 16  # entries read at a time (512 KiB)


def pagemap_readable() -> bool:
    """Whether this process may read its pagemap (one that gave up root keeps a /proc/self owned by root)."""
    return os.access("/proc/self/pagemap", os.R_OK)


def pagemap_runs(first: int, last: int) -> Iterator[Tuple[int, int, bool]]:
    """Pages [first, last) in runs: (lo, hi, True for a hole: no page, not swapped, not a guard).

    A process that gave up root keeps a /proc/self owned by root: without pagemap no page is known
    to be a hole, and every page is read (slower, the same answers).
    """
    try:
        f = open("/proc/self/pagemap", "rb", buffering=0)  # noqa: SIM115 (closed by the with below)
    except OSError:
        if first < last:
            yield first, last, False
        return
    with f:
        pending: Optional[List[Any]] = None
        for lo in range(first, last, PAGEMAP_CHUNK):
            hi = min(last, lo + PAGEMAP_CHUNK)
            f.seek(lo * 8)
            entries = array("Q", f.read((hi - lo) * 8))
            for run in _entry_runs(entries, lo):
                if pending is not None and pending[1] == run[0] and pending[2] == run[2]:
                    pending[1] = run[1]
                    continue
                if pending is not None:
                    yield pending[0], pending[1], pending[2]
                pending = list(run)
        if pending is not None:
            yield pending[0], pending[1], pending[2]


def _entry_runs(entries: array[int], base: int) -> Iterator[Tuple[int, int, bool]]:
    """Runs of hole / not-hole entries; a chunk of identical hole entries costs one comparison."""
    first = entries[0]
    if first & ~PM_HOLE_BITS == 0 and entries.tobytes() == array("Q", [first]).tobytes() * len(entries):
        yield base, base + len(entries), True
        return
    start = 0
    for i in range(1, len(entries) + 1):  # a mixed chunk: pages are there, and they will be read anyway
        if i == len(entries) or (entries[i] & ~PM_HOLE_BITS == 0) != (entries[start] & ~PM_HOLE_BITS == 0):
            yield base + start, base + i, entries[start] & ~PM_HOLE_BITS == 0
            start = i


def page_batches(addr: int, size: int, page: int, count: int) -> Iterator[List[int]]:
    """The address each page touched is first read at (addr, then each page start), in batches."""
    if size <= 0:
        return
    first, last = addr // page, (addr + size - 1) // page
    for lo in range(first, last + 1, count):
        batch = [p * page for p in range(lo, min(lo + count, last + 1))]
        if lo == first:
            batch[0] = addr
        yield batch


def add_byte_runs(runs: PageRuns, data: bytes) -> None:
    """Each byte as one page's result, joined into runs (a batch of equal bytes costs one compare)."""
    if data and data.count(data[0]) == len(data):
        add_run(runs, describe_byte(data[0]), len(data))
        return
    for byte in data:
        add_run(runs, describe_byte(byte), 1)
