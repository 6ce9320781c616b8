"""What a read or a write of simulated pages meets: the page table first, then the backing
object (or zero-fill), with the signal a real access would get where there is nothing.

Ranges are walked as runs, not page by page: a VMA, cut where its page-table entries or its
object's cached pages change, gives a handful of pieces however large it is. Each piece's
result counts its pages ("data:A" × 262144), which is what a read reports.
"""

from __future__ import annotations

from typing import Iterator, Optional, Tuple

from mremapctl.backends.sim.space import Obj, Pte, Space, Vma, new_anon_vma
from mremapctl.kinds import KINDS
from mremapctl.pages import describe_byte
from mremapctl.results import NOT_MODELLED, OK, SIGBUS, SIGSEGV, UFFD, PageRuns, add_run

MAPS_ZERO = Pte(value=0, zero_page=True)  # an anonymous page faulted in by a read: the shared zero page
MAPS_OBJECT = Pte()  # a page that maps its object's page


def page_span(addr: int, size: int, page: int) -> Tuple[int, int]:
    """The virtual page numbers [first, last) an access of [addr, addr+size) touches."""
    if size <= 0:
        return addr // page, addr // page
    return addr // page, (addr + size + page - 1) // page


def _vma_pieces(space: Space, lo: int, hi: int, perm: str) -> Iterator[Tuple[int, int, Optional[Vma]]]:
    """[lo, hi) in pages, cut at VMA boundaries; None where no VMA allows the access."""
    at, page = lo, space.page
    for vma in space.overlapping(lo * page, hi * page):
        start, end = max(lo, vma.start // page), min(hi, vma.end // page)
        if start > at:
            yield at, start, None
        yield start, end, vma if perm in vma.flags else None
        at = end
    if at < hi:
        yield at, hi, None


def _object_pieces(obj: Optional[Obj], lo: int, hi: int, page: int) -> Iterator[Tuple[int, int, Optional[int], bool]]:
    """Object pages [lo, hi) cut where the cached pages change and at the end of the object:
    (lo, hi, first byte if cached, past the end)."""
    if obj is None or obj.backing == "anonfile":
        yield lo, hi, None, False
        return
    end = -(-obj.size // page) if obj.sigbus_beyond_size else hi
    for plo, phi, cached in obj.pages.pieces(lo, hi):
        if plo < end:
            yield plo, min(phi, end), cached, False
        if phi > end:
            yield max(plo, end), phi, cached, True


def read_runs(space: Space, addr: int, size: int) -> PageRuns:
    """What a read of each page touched meets, as runs; faulting in what a read faults in."""
    runs: PageRuns = []
    first, last = page_span(addr, size, space.page)
    for lo, hi, vma in _vma_pieces(space, first, last, "rd"):
        if vma is None:
            add_run(runs, SIGSEGV, hi - lo)
            continue
        for plo, phi, pte in space.ptes.pieces(lo, hi):
            if pte is not None and pte.guard:
                add_run(runs, SIGSEGV, phi - plo)
            elif pte is not None and pte.value is not None:
                add_run(runs, describe_byte(pte.value), phi - plo)
            else:
                _read_object(space, vma, plo, phi, faulted=pte is not None, runs=runs)
    return runs


def _read_object(space: Space, vma: Vma, lo: int, hi: int, faulted: bool, runs: PageRuns) -> None:
    """Pages whose page-table entries map the object (or nothing yet: the read faults them in)."""
    offset = vma.pgoff - vma.start // vma.page  # object page index = virtual page number + offset
    anonymous = vma.obj is None or vma.obj.backing == "anonfile"
    for olo, ohi, cached, past_end in _object_pieces(vma.obj, lo + offset, hi + offset, vma.page):
        in_cache = cached is not None and not anonymous
        if not faulted and (("um" in vma.flags and not in_cache) or ("ui" in vma.flags and in_cache)):
            add_run(runs, UFFD, ohi - olo)  # registered with userfaultfd: the read waits for the handler
        elif past_end:
            add_run(runs, SIGBUS, ohi - olo)
        else:
            if not faulted:
                space.ptes.set(olo - offset, ohi - offset, MAPS_ZERO if anonymous else MAPS_OBJECT)
                fault_around(space, vma, olo - offset, ohi - offset)
            unknown = cached is None and vma.obj is not None and vma.obj.unknown_contents
            add_run(runs, NOT_MODELLED if unknown else describe_byte(0 if anonymous else cached or 0), ohi - olo)


FAULT_AROUND_BYTES = 1 << 16  # vm fault_around_bytes


def fault_around(space: Space, vma: Vma, lo: int, hi: int) -> None:
    """A read fault of a file or shmem page also maps the cached pages around it, in the aligned
    block of FAULT_AROUND_PAGES it falls in (do_fault_around()): invisible in what a read returns,
    visible in Rss. Not for anonymous, special, secret or hugetlb memory, nor where userfaultfd
    wants to hear of minor or write-protect faults."""
    page = space.page
    obj = vma.obj
    if obj is None or vma.anonymous or vma.special or "ht" in vma.flags or vma.flags & {"ui", "uw"}:
        return
    if vma.kind is not None and KINDS[vma.kind].secret:
        return
    n = max(1, FAULT_AROUND_BYTES // page)
    start, end = max(lo // n * n, vma.start // page), min(-(-hi // n) * n, vma.end // page)
    offset = vma.pgoff - vma.start // page  # object page index = virtual page number + offset
    eof = -(-obj.size // page) if obj.sigbus_beyond_size else end + offset
    for plo, phi, pte in space.ptes.pieces(start, end):
        if pte is None:
            for olo, ohi, cached in obj.pages.pieces(plo + offset, min(phi + offset, eof)):
                if cached is not None:
                    space.ptes.set(olo - offset, ohi - offset, MAPS_OBJECT)


def write_runs(space: Space, addr: int, size: int, byte: int) -> PageRuns:
    """Write `byte` to the first byte of each page touched (the rest of a page mid-way keeps its
    first byte); "ok" or the fault a real write would get, as runs."""
    runs: PageRuns = []
    first, last = page_span(addr, size, space.page)
    covers_first = addr % space.page == 0
    for lo, hi, vma in _vma_pieces(space, first, last, "wr"):
        if vma is None:
            add_run(runs, SIGSEGV, hi - lo)
            continue
        for plo, phi, pte in space.ptes.pieces(lo, hi):
            mid_page = plo == first and not covers_first  # the first page, written past its first byte
            if mid_page:
                _write_piece(space, vma, plo, plo + 1, pte, byte, runs, covers_first=False)
                plo += 1
            if plo < phi:
                _write_piece(space, vma, plo, phi, pte, byte, runs, covers_first=True)
    return runs


def _write_piece(
    space: Space, vma: Vma, lo: int, hi: int, pte: Optional[Pte], byte: int, runs: PageRuns, covers_first: bool
) -> None:
    if pte is not None and pte.guard:
        add_run(runs, SIGSEGV, hi - lo)
        return
    offset = vma.pgoff - vma.start // vma.page
    lo_ok, hi_ok = _writable_pages(vma, lo + offset, hi + offset)
    if lo_ok < hi_ok:
        vlo, vhi = lo_ok - offset, hi_ok - offset
        if vma.shared:
            if covers_first:
                vma.obj.pages.set(lo_ok, hi_ok, byte)  # type: ignore[union-attr]
            space.ptes.set(vlo, vhi, MAPS_OBJECT)
        else:
            _write_private(space, vma, vlo, vhi, pte, byte if covers_first else None)
            if vma.anon_vma is None:
                vma.anon_vma = new_anon_vma()
        add_run(runs, OK, hi_ok - lo_ok)
    if hi_ok < hi + offset:
        add_run(runs, SIGBUS, hi + offset - max(hi_ok, lo + offset))


def _writable_pages(vma: Vma, lo: int, hi: int) -> Tuple[int, int]:
    """The object pages of [lo, hi) a write reaches: not past the end of a file (SIGBUS), not
    past the pages a special mapping lets be written (the perf ring's header)."""
    obj = vma.obj
    if obj is None:
        return lo, hi
    if obj.backing == "special":
        writable = KINDS[vma.special].writable_pages if vma.special else None
        return (lo, hi) if writable is None else (lo, max(lo, min(hi, writable)))
    if obj.sigbus_beyond_size:
        return lo, max(lo, min(hi, -(-obj.size // vma.page)))
    return lo, hi


def _write_private(space: Space, vma: Vma, lo: int, hi: int, pte: Optional[Pte], byte: Optional[int]) -> None:
    """A private write makes private pages: with the byte, or (mid-page) with what was there."""
    if byte is not None:
        space.ptes.set(lo, hi, Pte(value=byte))
        return
    current = pte.value if pte is not None and pte.value is not None else None
    if current is None:
        obj = vma.obj
        index = vma.pgoff + (lo * vma.page - vma.start) // vma.page
        current = obj.pages.get(index) or 0 if obj is not None and obj.backing != "anonfile" else 0
    space.ptes.set(lo, hi, Pte(value=current))
