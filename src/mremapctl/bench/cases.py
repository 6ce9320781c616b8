"""What ``bench`` measures: the cells (op × mapping × size × placement × populated) and where
each region and destination sits in the lab.

The placements are chosen against the page-table levels on x86_64 and arm64 (4 KiB pages):
a move relinks whole PUD entries (1 GiB) or PMD entries (2 MiB, one PTE table) only where
both the source and the destination cover whole aligned units, and otherwise moves PTE by
PTE. Since 6.7 the kernel also realigns "mutually aligned" starts (same offset within a
PMD, nothing mapped below) down to the PMD boundary, which is what the ``mutual`` placement
shows; ``misaligned`` can only ever move PTEs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from mremapctl.errors import BadInput
from mremapctl.lab import GiB, align_up
from mremapctl.units import format_size, parse_term

KiB, MiB = 1 << 10, 1 << 20
PAGE = 4096

OPS = ("move", "dontunmap", "grow", "shrink")
MAPPINGS = ("anon", "memfd")
PLACEMENTS = ("pud", "pmd", "mutual", "misaligned")
IN_PLACE_OPS = ("grow", "shrink")  # one address only: "mutual" means nothing for them
DEFAULT_MAPPINGS: Dict[str, Tuple[str, ...]] = {
    "move": ("anon",),
    "dontunmap": ("anon", "memfd"),
    "grow": ("anon",),
    "shrink": ("anon",),
}
DEFAULT_SIZES = (4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 2 * MiB, 4 * MiB, 16 * MiB, 64 * MiB, 256 * MiB, GiB)
QUICK_SIZES = (4 * KiB, 64 * KiB, 2 * MiB, 8 * MiB)  # `bench --quick`: seconds, for CI
MAX_SIZE = 8 * GiB  # the source, its room to grow to 2 × size, and the destination fit the 32 GiB lab

# Offsets from a 1 GiB boundary of the (source, destination) for each placement.
OFFSETS: Dict[str, Tuple[int, int]] = {
    "pud": (0, 0),  # both 1 GiB-aligned: whole PUD entries move
    "pmd": (2 * MiB, 4 * MiB),  # both 2 MiB-aligned, never 1 GiB-aligned: PMD entries
    "mutual": (64 * KiB, 2 * MiB + 64 * KiB),  # the same offset within a PMD, not PMD-aligned
    "misaligned": (64 * KiB, 128 * KiB),  # different offsets within a PMD: PTE by PTE
}
PLACEMENT_HELP = {
    "pud": "source and destination 1 GiB-aligned",
    "pmd": "2 MiB-aligned, not 1 GiB-aligned",
    "mutual": "same offset within 2 MiB, not 2 MiB-aligned",
    "misaligned": "different offsets within 2 MiB",
}


@dataclass(frozen=True, order=True)
class Case:
    """One cell of the benchmark. For grow, ``size`` is added (size → 2·size); for shrink removed."""

    op: str
    mapping: str
    size: int
    placement: str
    populated: bool

    @property
    def label(self) -> str:
        state = "populated" if self.populated else "empty"
        return f"{self.op} {self.mapping} {format_size(self.size)} {self.placement} {state}"

    @property
    def series(self) -> Tuple[str, str, str, bool]:
        """The row of the grid: everything but the size."""
        return (self.op, self.mapping, self.placement, self.populated)


@dataclass(frozen=True)
class Selection:
    sizes: Tuple[int, ...] = DEFAULT_SIZES
    ops: Tuple[str, ...] = OPS
    placements: Tuple[str, ...] = PLACEMENTS
    mappings: Optional[Tuple[str, ...]] = None  # None: DEFAULT_MAPPINGS per op
    populated: Tuple[bool, ...] = (False, True)


def build_cases(selection: Selection) -> List[Case]:
    """Every cell of the selection, in a stable order (op, mapping, placement, populated, size)."""
    cases: List[Case] = []
    for op in selection.ops:
        mappings = selection.mappings or DEFAULT_MAPPINGS[op]
        placements = [p for p in selection.placements if not (op in IN_PLACE_OPS and p == "mutual")]
        for mapping in mappings:
            for placement in placements:
                for populated in selection.populated:
                    cases.extend(Case(op, mapping, size, placement, populated) for size in selection.sizes)
    return cases


def addresses(case: Case, lab_start: int) -> Tuple[int, int]:
    """(source, destination) in the lab. The source's 1 GiB slot leaves room to grow to 2 × size."""
    src_off, dst_off = OFFSETS[case.placement]
    src_slot = lab_start + GiB
    dst_slot = src_slot + align_up(2 * case.size + 8 * MiB, GiB)
    return src_slot + src_off, dst_slot + dst_off


def populate_need(case: Case) -> int:
    """Bytes of memory a cell keeps populated at its peak (grow/shrink hold 2 × size)."""
    if not case.populated:
        return 0
    return 2 * case.size if case.op in IN_PLACE_OPS else case.size


# -- parsing the selection -----------------------------------------------------------------------


def parse_sizes(text: str) -> Tuple[int, ...]:
    """ "4K,2M,1G" → sizes in bytes; each a whole number of pages, 4 KiB … 8 GiB."""
    sizes = []
    for item in _items(text, "size"):
        size = parse_term(item, PAGE)
        if size == 0 or size % PAGE:
            raise BadInput(f"bad size {item!r}: a bench size is a whole number of 4 KiB pages")
        if size > MAX_SIZE:
            raise BadInput(f"bad size {item!r}: at most {format_size(MAX_SIZE)} (the lab is 32 GiB)")
        sizes.append(size)
    return tuple(sorted(set(sizes)))


def parse_choice(text: str, known: Sequence[str], what: str) -> Tuple[str, ...]:
    """A comma-separated subset of ``known``, kept in the order of ``known``."""
    chosen = set()
    for item in (i.lower() for i in _items(text, what)):
        if item not in known:
            raise BadInput(f"unknown {what} {item!r}: known are {', '.join(known)}")
        chosen.add(item)
    return tuple(k for k in known if k in chosen)


def _items(text: str, what: str) -> Iterable[str]:
    items = [part.strip() for part in text.split(",") if part.strip()]
    if not items:
        raise BadInput(f"bad {what} list {text!r}: expected comma-separated values")
    return items
