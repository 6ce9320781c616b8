"""What ``bench`` measures: the cells (op × mapping × size × placement × populated) and where
each region and destination sits in the lab.

The placements are chosen against the page-table levels of this machine's page size: a move
relinks whole entries one level up from the PTEs (PUD: 1 GiB with 4 KiB pages, 64 GiB with 16
KiB) or PMD entries (one PTE table: 2 MiB, 32 MiB with 16 KiB pages) only where both the source
and the destination cover whole aligned units, and otherwise moves PTE by PTE. Since 6.7 the
kernel also realigns "mutually aligned" starts (same offset within a PMD, nothing mapped below)
down to the PMD boundary, which is what the ``mutual`` placement shows; ``misaligned`` can only
ever move PTEs.
"""

from __future__ import annotations

from dataclasses import field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from mremapctl.errors import BadInput
from mremapctl.frozen import frozen
from mremapctl.lab import LAB_SIZE, GiB, align_up
from mremapctl.platforms import Platform, host_platform
from mremapctl.units import format_size, parse_term

KiB, MiB = 1 << 10, 1 << 20

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
MAX_SIZE = 8 * GiB  # a cell holds 3 × size at its peak (a grown source and a destination)


def offsets(placement: str, shape: Platform) -> Tuple[int, int]:
    """The (source, destination) offsets from a slot boundary (PUD-aligned for ``pud``)."""
    pmd = shape.pmd
    return {
        "pud": (0, 0),  # both PUD-aligned: whole PUD entries move
        "pmd": (pmd, 2 * pmd),  # both PMD-aligned, never PUD-aligned: PMD entries
        "mutual": (64 * KiB, pmd + 64 * KiB),  # the same offset within a PMD, not PMD-aligned
        "misaligned": (64 * KiB, 128 * KiB),  # different offsets within a PMD: PTE by PTE
    }[placement]


def default_sizes(quick: bool, shape: Optional[Platform] = None) -> Tuple[int, ...]:
    """The sizes measured when none are asked for: those that are whole pages here."""
    page = (shape or host_platform()).page
    return tuple(size for size in (QUICK_SIZES if quick else DEFAULT_SIZES) if size % page == 0)


@frozen(order=True)
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


@frozen
class Selection:
    sizes: Tuple[int, ...] = field(default_factory=lambda: default_sizes(quick=False))
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


def addresses(case: Case, lab_start: int, shape: Optional[Platform] = None) -> Tuple[int, int]:
    """(source, destination) in the lab. Slots are 1 GiB apart (a PUD apart for ``pud``); the
    source's slot leaves room to grow to 2 × size past its offset."""
    shape = shape or host_platform()
    src_off, dst_off = offsets(case.placement, shape)
    slot = shape.pud if case.placement == "pud" else GiB
    src_slot = lab_start + slot
    dst_slot = src_slot + align_up(2 * case.size + 4 * shape.pmd, slot)
    return src_slot + src_off, dst_slot + dst_off


def lab_size(cases: Sequence[Case], shape: Optional[Platform] = None) -> int:
    """The lab the cells need: the default 32 GiB, or more where a PUD is larger (16 KiB pages)."""
    ends = [addresses(case, 0, shape)[1] + case.size for case in cases]
    return max(LAB_SIZE, align_up(max(ends, default=0), GiB))


def populate_need(case: Case) -> int:
    """Bytes of memory a cell keeps populated at its peak (grow/shrink hold 2 × size)."""
    if not case.populated:
        return 0
    return 2 * case.size if case.op in IN_PLACE_OPS else case.size


# -- parsing the selection -----------------------------------------------------------------------


def parse_sizes(text: str, shape: Optional[Platform] = None) -> Tuple[int, ...]:
    """ "4K,2M,1G" → sizes in bytes; each a whole number of this machine's pages, at most 8 GiB."""
    page = (shape or host_platform()).page
    sizes = []
    for item in _items(text, "size"):
        size = parse_term(item, page)
        if size == 0 or size % page:
            raise BadInput(f"bad size {item!r}: a bench size is a whole number of {format_size(page)} pages")
        if size > MAX_SIZE:
            raise BadInput(f"bad size {item!r}: at most {format_size(MAX_SIZE)}")
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
