"""The demo's Java-like heap: objects whose bytes say where they were born, marks, and compaction.

Every object is 64 bytes, eight 8-byte words, and word ``i`` of the heap holds ``TAG + i``:
an object moved to a wrong place, a page copied to the wrong address or a zero page can
never pass for the right contents. Marking is a seeded random choice (about 5 in 8 objects
survive). Compaction is per page: the live objects of a page slide to its start in order,
the rest of the page is zeroed. Per-page compaction is what lets the handler resolve faults
in any order, and what lets a shared heap be compacted in place (UFFDIO_CONTINUE): a page's
new contents depend on that page's old contents only.
"""

from __future__ import annotations

import random
from array import array
from typing import Tuple

from mremapctl.units import host_page_size

PAGE = host_page_size()  # the heap is laid out in this machine's pages: faults are resolved a page at a time
OBJECT = 64
OBJECTS_PER_PAGE = PAGE // OBJECT
WORDS_PER_PAGE = PAGE // 8
MASK_BYTES = OBJECTS_PER_PAGE // 8  # a page's live mask, a bit per object
TAG = 0x6D72656D_00000000  # "mrem" in the high half: never a small number, never zero


def page_bytes(first_page: int, pages: int = 1) -> bytes:
    """The heap's original contents for ``pages`` pages starting at ``first_page``."""
    start = TAG + first_page * WORDS_PER_PAGE
    return array("Q", range(start, start + pages * WORDS_PER_PAGE)).tobytes()


class Marks:
    """Which objects survive: a live mask per page, a bit per object, from a seed (what a GC's
    marking finds)."""

    def __init__(self, pages: int, seed: int = 5) -> None:
        rng = random.Random(seed)
        self.pages = pages
        self._a, self._b, self._c = (rng.randbytes(MASK_BYTES * pages) for _ in range(3))

    def mask(self, page: int) -> int:
        at = MASK_BYTES * page
        a, b, c = (int.from_bytes(x[at : at + MASK_BYTES], "little") for x in (self._a, self._b, self._c))
        return a | (b & c)  # P(live) = 1/2 + 1/2 · 1/4 = 5/8

    def live_slots(self, page: int) -> Tuple[int, ...]:
        mask = self.mask(page)
        return tuple(slot for slot in range(OBJECTS_PER_PAGE) if mask >> slot & 1)

    def live_objects(self) -> int:
        return sum(bin(self.mask(p)).count("1") for p in range(self.pages))


def compact(page: bytes, live: Tuple[int, ...]) -> bytes:
    """The page after compaction: its live objects slid to the start, zeros after them.

    >>> old = bytes(range(64)) + bytes([1]) * 64 + bytes(PAGE - 128)
    >>> new = compact(old, (1,))
    >>> new[:64] == bytes([1]) * 64 and new[64:] == bytes(PAGE - 64)
    True
    """
    moved = b"".join(page[slot * OBJECT : (slot + 1) * OBJECT] for slot in live)
    return moved + bytes(PAGE - len(moved))


def expected_page(page: int, marks: Marks) -> bytes:
    """What page ``page`` of the heap must hold after the GC, computed without reading memory."""
    return compact(page_bytes(page), marks.live_slots(page))
