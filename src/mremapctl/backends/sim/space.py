"""The simulated address space: VMAs over backing objects, page tables, and the kernel's
split-and-merge bookkeeping.

Only what an experiment can observe is modelled: each VMA's range, VmFlags, backing and
page offset (the maps line), and for each page the first byte a read would return.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import FrozenSet, Iterator, List, Optional, Tuple

from mremapctl.backends.sim.extents import Extents
from mremapctl.flags import VM_FLAGS
from mremapctl.frozen import frozen

SPECIAL = frozenset({"io", "de", "pf", "mm"})  # VM_SPECIAL: such VMAs never merge
UFFD_FLAGS = frozenset({"um", "uw", "ui"})
SOFT_DIRTY = frozenset({"sd"})  # ignored when merging
STICKY = frozenset({"sd", "gu"})  # 6.19+: ignored when merging, and kept by the merged VMA


@frozen
class MergeRules:
    """What decides a merge on the modelled kernel (the machine sets it from the rules)."""

    sticky: bool = False  # "sticky-flags"
    faulted_joins_unfaulted: bool = True  # "faulted-merges-unfaulted"


DEFAULT_MERGES = MergeRules()
_ids = itertools.count(1)


@lru_cache(maxsize=1024)
def _ordered(flags: FrozenSet[str]) -> Tuple[str, ...]:
    return tuple(f for f in VM_FLAGS if f in flags)


@lru_cache(maxsize=1024)
def _perms(flags: FrozenSet[str]) -> str:
    """The maps line's "rwxp" for these VmFlags (a matrix asks it of the same few sets millions of times)."""
    rwx = "".join((c if f in flags else "-") for c, f in (("r", "rd"), ("w", "wr"), ("x", "ex")))
    return rwx + ("s" if "ms" in flags else "p")


@dataclass(eq=False)
class Obj:
    """A backing object: a file, a memfd, a shmem segment. Pages hold their first byte."""

    backing: str  # "file" | "shmem" | "anonfile" (private /dev/zero: reads as anonymous) | "special"
    path: str
    size: int
    dev: str = "00:01"
    inode: int = 0
    pages: Extents[int] = field(default_factory=Extents)  # first byte of each page, by page index
    sigbus_beyond_size: bool = True
    # The file places its own mappings (a get_unmapped_area hook other than shmem's, hugetlbfs'
    # or the generic THP one): 6.17's multi-VMA moves refuse such VMAs.
    own_placement: bool = False
    unknown_contents: bool = False  # pages not set hold bytes the model does not know (the vDSO's code)

    def __post_init__(self) -> None:
        if not self.inode:
            self.inode = next(_ids)


@dataclass(eq=False)
class Vma:
    start: int
    end: int
    flags: FrozenSet[str]  # VmFlags mnemonics
    obj: Optional[Obj]  # None: private anonymous memory
    pgoff: int  # in pages
    anon_vma: Optional[int] = None  # set once a private page is written (COW / anonymous fault)
    kind: Optional[str] = None  # the mapping kind that made it (None: not made by the scenario)
    special: Optional[str] = None  # the kind again when it is special: its own split, move and merge rules
    path_override: Optional[str] = None
    page: int = field(default=4096, repr=False)  # the machine's page size (pgoff counts these)

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def pages(self) -> int:
        return self.size // self.page

    @property
    def shared(self) -> bool:
        return "sh" in self.flags

    @property
    def anonymous(self) -> bool:
        """The kernel's vma_is_anonymous(): private memory without a page-cache object."""
        return self.obj is None or self.obj.backing == "anonfile"

    @property
    def path(self) -> str:
        if self.path_override is not None:
            return self.path_override
        return self.obj.path if self.obj is not None else ""

    def perms(self) -> str:
        return _perms(self.flags)

    def offset(self) -> int:
        return self.pgoff * self.page if self.obj is not None else 0

    def ordered_flags(self) -> Tuple[str, ...]:
        return _ordered(self.flags)

    def piece(self, start: int, end: int) -> Vma:
        """The part [start, end) of this VMA, as the kernel's split leaves it."""
        return replace(self, start=start, end=end, pgoff=self.pgoff + (start - self.start) // self.page)


@dataclass
class Pte:
    value: Optional[int] = None  # a private page's first byte; None: maps the object's page
    guard: bool = False
    zero_page: bool = False  # the shared zero page a read of anonymous memory maps: not in Rss


def new_anon_vma() -> int:
    return next(_ids)


class Space:
    """VMAs sorted by address, and the page table (virtual page number → Pte)."""

    def __init__(self, merges: MergeRules = DEFAULT_MERGES, page: int = 4096) -> None:
        self.merges = merges
        self.page = page
        self.vmas: List[Vma] = []
        self.ptes: Extents[Pte] = Extents()  # by virtual page number

    # -- lookup ---------------------------------------------------------------------------

    def find(self, addr: int) -> Optional[Vma]:
        for vma in self.vmas:
            if vma.start <= addr < vma.end:
                return vma
        return None

    def overlapping(self, start: int, end: int) -> List[Vma]:
        return [v for v in self.vmas if v.start < end and start < v.end]

    def is_free(self, start: int, end: int) -> bool:
        return not self.overlapping(start, end)

    def __iter__(self) -> Iterator[Vma]:
        return iter(self.vmas)

    # -- structure ------------------------------------------------------------------------

    def insert(self, vma: Vma) -> Vma:
        self.vmas.append(vma)
        self.vmas.sort(key=lambda v: v.start)
        return vma

    def remove(self, vma: Vma) -> None:
        self.vmas.remove(vma)

    def split(self, addr: int) -> None:
        """Make addr a VMA boundary (if it falls inside one)."""
        vma = self.find(addr)
        if vma is None or vma.start == addr:
            return
        self.remove(vma)
        self.insert(vma.piece(vma.start, addr))
        self.insert(vma.piece(addr, vma.end))

    def isolate(self, start: int, end: int) -> List[Vma]:
        """Split at both ends and return the VMAs exactly covering [start, end) ∩ mapped."""
        self.split(start)
        self.split(end)
        return self.overlapping(start, end)

    def unmap(self, start: int, end: int) -> None:
        for vma in self.isolate(start, end):
            self.remove(vma)
        self.ptes.delete(start // self.page, end // self.page)

    def replace_flags(self, vma: Vma, flags: FrozenSet[str]) -> Vma:
        vma.flags = flags
        return vma

    # -- merging --------------------------------------------------------------------------

    def mergeable(self, a: Vma, b: Vma, placed: Vma) -> bool:
        """Could a and b (a directly below b) be one VMA, ``placed`` being the one just made or
        changed? The kernel's vma_merge conditions."""
        ignored = STICKY if self.merges.sticky else SOFT_DIRTY
        if a.end != b.start or a.flags - ignored != b.flags - ignored or a.obj is not b.obj:
            return False
        if a.special or b.special:
            return False
        if a.flags & SPECIAL or a.path_override != b.path_override:
            return False
        if a.anon_vma is not None and b.anon_vma is not None and a.anon_vma != b.anon_vma:
            return False
        other = a if placed is b else b
        if placed.anon_vma is not None and other.anon_vma is None and not self.merges.faulted_joins_unfaulted:
            return False
        return a.pgoff + a.pages == b.pgoff

    def merge_around(self, vma: Vma, exclude: Optional[Vma] = None) -> Vma:
        """Merge vma with its neighbours where the kernel would (never with ``exclude``)."""
        prev = next((v for v in self.vmas if v.end == vma.start), None)
        if prev is not None and prev is not exclude and self.mergeable(prev, vma, vma):
            vma = self._join(prev, vma)
        nxt = next((v for v in self.vmas if v.start == vma.end), None)
        if nxt is not None and nxt is not exclude and self.mergeable(vma, nxt, vma):
            vma = self._join(vma, nxt)
        return vma

    def _join(self, a: Vma, b: Vma) -> Vma:
        self.remove(a)
        self.remove(b)
        flags = a.flags | (b.flags & STICKY) if self.merges.sticky else a.flags
        return self.insert(replace(a, end=b.end, anon_vma=a.anon_vma or b.anon_vma, flags=flags))

    # -- pages ----------------------------------------------------------------------------

    def move_ptes(self, old: int, new: int, length: int) -> None:
        """Page tables move with the data; the old range is left without entries."""
        self.ptes.move(old // self.page, (old + length) // self.page, new // self.page)

    def drop_ptes(self, start: int, end: int, keep_guards: bool = True) -> None:
        for lo, hi, pte in self.ptes.runs(start // self.page, end // self.page):
            if not (keep_guards and pte.guard):
                self.ptes.delete(lo, hi)
