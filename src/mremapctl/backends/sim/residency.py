"""What smaps would count of each simulated VMA's memory: Rss, Pss, Swap, Locked.

The model knows which pages a VMA's page table maps (a private page, an object's page, the shared
zero page), so it can count them as the kernel's smaps walk does. Where it does not model what
puts pages there it says so with None rather than a wrong 0: a locked VMA (mlock and MAP_LOCKED
populate it; the model does not), a special mapping (the vDSO, the perf ring, the aio ring map
their pages themselves), a sparse file on disk (readahead fills its page cache) and transparent
huge pages (not modelled at all).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Dict, List, Optional, Tuple

from mremapctl.backends.sim.space import Obj, Space, Vma
from mremapctl.results import MemoryUse

KiB = 1024


Walk = Tuple[int, List[Tuple[int, int]]]  # a VMA's private pages, and the object pages [lo, hi) it maps


def walk(space: Space, vma: Vma) -> Walk:
    """One pass over the VMA's page table: the private pages it holds (not zero pages, not guards)
    and the runs of object pages it maps (not private copies, not guards)."""
    page = space.page
    first = vma.start // page
    offset = vma.pgoff - first
    private = 0
    shared: List[Tuple[int, int]] = []
    for lo, hi, pte in space.ptes.runs(first, vma.end // page):
        if pte.guard:
            continue
        if pte.value is None:
            shared.append((lo + offset, hi + offset))
        elif not pte.zero_page:
            private += hi - lo
    return private, shared


class Residency:
    """The page tables of a whole address space, walked once for a snapshot's smaps counters: a
    shared page's Pss depends on every VMA that maps it."""

    def __init__(self, space: Space) -> None:
        self.space = space
        self.walks = {id(vma): walk(space, vma) for vma in space}
        # For each object (by id), every run of its pages some VMA maps: a page's mapcount is how
        # many runs cover it.
        self.mappers: Dict[int, List[Tuple[int, int]]] = defaultdict(list)
        for vma in space:
            if vma.obj is not None and not vma.anonymous:
                self.mappers[id(vma.obj)] += self.walks[id(vma)][1]

    def memory_of(self, vma: Vma) -> Optional[MemoryUse]:
        """The smaps counters of one VMA, or None where the model does not know what the kernel maps."""
        page = self.space.page
        if vma.special is not None or "lo" in vma.flags or readahead_may_have_filled(vma.obj, page):
            return None
        if "ht" in vma.flags:  # hugetlb pages are counted apart (Shared_Hugetlb), never in Rss
            return MemoryUse(rss=0, pss=0, swap=0, locked=0, anon_huge_pages=0)
        private, object_runs = self.walks[id(vma)]
        shared_runs = object_runs if not vma.anonymous else []
        shared = sum(hi - lo for lo, hi in shared_runs)
        obj: Optional[Obj] = vma.obj
        pss = float(private * page)
        if shared_runs and obj is not None:
            pss += _shared_pss(shared_runs, self.mappers[id(obj)], page)
        return MemoryUse(
            rss=(private + shared) * page,
            pss=int(pss) // KiB * KiB,  # smaps prints kB, rounded down
            swap=0,  # the model never swaps
            locked=0,
            anon_huge_pages=None,
        )


def _shared_pss(runs: List[Tuple[int, int]], everyone: List[Tuple[int, int]], page: int) -> float:
    """Bytes of Pss for the object pages in ``runs``: each page divided by its number of mappers."""
    pss = 0.0
    for lo, hi in runs:
        cuts = sorted({lo, hi, *(p for a, b in everyone for p in (a, b) if lo < p < hi)})
        for start, end in zip(cuts, cuts[1:]):
            count = sum(1 for a, b in everyone if a <= start and end <= b)
            pss += (end - start) * page / max(count, 1)
    return pss


def readahead_may_have_filled(obj: Optional[Obj], page: int) -> bool:
    """A file (not shmem) with pages the model never cached: a read fault there reads ahead, and
    what readahead brings in (and fault-around then maps) depends on the device, not the model."""
    if obj is None or obj.backing != "file":
        return False
    pages = -(-obj.size // page)
    return sum(hi - lo for lo, hi, _ in obj.pages.runs(0, pages)) < pages
