"""The lab: the reserved address range every experiment lives in, and where regions go.

Both backends place regions by these rules, so a live and a simulated run of the same
scenario put every region at the same address and their maps compare line for line.
"""

from __future__ import annotations

from mremapctl.frozen import frozen

GiB = 1 << 30

# Far below where the C library and Python put their mappings (top-down from ~0x7f…),
# far above the program and its heap, 1 GiB aligned so PMD and PUD moves can be shown.
DEFAULT_LAB_START = 0x100000000000
# For 39-bit address spaces (some arm64 boards and phones): the first address fails there.
FALLBACK_LAB_STARTS = (0x4000000000,)
LAB_SIZE = 32 * GiB


def align_up(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


@frozen
class Lab:
    start: int = DEFAULT_LAB_START
    size: int = LAB_SIZE

    @property
    def end(self) -> int:
        return self.start + self.size

    def contains(self, start: int, end: int) -> bool:
        return self.start <= start <= end <= self.end


class Placer:
    """Gives each region created without ``at`` its own gigabyte (or more) of the lab.

    A region starts at a 1 GiB boundary with at least one free byte after it, so growing
    in place works unless the scenario itself blocks it.
    """

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.next = lab.start

    def place(self, size: int) -> int:
        addr = self.next
        self.next = align_up(addr + size + 1, GiB)
        return addr


LAB_SIZE_MAX = 64 << 40  # from 0x100000000000 that stays inside a 47-bit address space


def lab_size(text: str) -> int:
    """A lab size a user asked for: whole GiB, at least the default (16 GiB regions fit in it)."""
    from mremapctl.errors import BadInput
    from mremapctl.expr import SizeExpr

    size: int = SizeExpr.of(text).resolve(4096)
    if size % GiB or not LAB_SIZE <= size <= LAB_SIZE_MAX:
        raise BadInput(f"bad lab size {text!r}: whole GiB from {LAB_SIZE >> 30}G to {LAB_SIZE_MAX >> 40}T")
    return size
