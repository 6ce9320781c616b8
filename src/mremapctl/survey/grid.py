"""The matrix's rows and columns, and the small scenario behind each cell.

Rows are mapping kinds with a variant (populated or not, mlocked, sealed, PROT_NONE);
columns are a flag set with a size relation. Each cell is one independent experiment.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from mremapctl import flags as F
from mremapctl.errors import BadInput
from mremapctl.expr import AddrExpr, SizeExpr
from mremapctl.frozen import frozen
from mremapctl.kinds import KINDS
from mremapctl.scenario.load import Scenario
from mremapctl.scenario.steps import Mlock, Mmap, Mprotect, Mremap, Mseal, Step

# "shared"/"private": the sharing a kind does not have by default (memfd private, /dev/zero shared …).
VARIANTS = ("plain", "shared", "private", "unpopulated", "mlocked", "sealed", "prot-none")
FLAG_SETS: Dict[str, int] = {
    "none": 0,
    "MAYMOVE": F.MREMAP_MAYMOVE,
    "FIXED": F.MREMAP_MAYMOVE | F.MREMAP_FIXED,
    "DONTUNMAP": F.MREMAP_MAYMOVE | F.MREMAP_DONTUNMAP,
    "FIXED|DONTUNMAP": F.MREMAP_MAYMOVE | F.MREMAP_FIXED | F.MREMAP_DONTUNMAP,
}
SIZES = ("same", "grow", "shrink", "zero", "onto")
TARGET = "lab+1G"


@frozen
class Column:
    flags: str  # a FLAG_SETS key
    size: str  # same | grow | shrink | zero (old_size 0) | onto (FIXED onto an existing mapping)

    @property
    def label(self) -> str:
        size = {"same": "", "grow": " grow", "shrink": " shrink", "zero": " old=0", "onto": " onto map"}[self.size]
        return ("—" if self.flags == "none" else self.flags) + size


@frozen
class Row:
    kind: str
    variant: str = "plain"

    @property
    def label(self) -> str:
        return self.kind + (f" {self.variant}" if self.variant != "plain" else "")


COLUMNS: Tuple[Column, ...] = (
    Column("MAYMOVE", "same"),
    Column("FIXED", "same"),
    Column("DONTUNMAP", "same"),
    Column("FIXED|DONTUNMAP", "same"),
    Column("none", "grow"),
    Column("MAYMOVE", "grow"),
    Column("none", "shrink"),
    Column("MAYMOVE", "shrink"),
    Column("MAYMOVE", "zero"),
    Column("FIXED", "onto"),
)


def select(names: Optional[Sequence[str]], known: Sequence[str], what: str, option: str) -> List[str]:
    """Parse a comma-separated selection (`option`, e.g. --kinds), refusing unknown or no names."""
    if not names:
        return list(known)
    chosen = [n.strip() for part in names for n in part.split(",") if n.strip()]
    if not chosen:
        raise BadInput(f"{option} {','.join(names)!r} names no {what}: known are {', '.join(known)}")
    for name in chosen:
        if name not in known:
            raise BadInput(f"{option}: unknown {what} {name!r}: known are {', '.join(known)}")
    return chosen


def applies(kind: str, variant: str) -> bool:
    """A sharing variant exists only where the kind's sharing can be chosen, and is not its default."""
    if variant not in ("shared", "private"):
        return True
    spec = KINDS[kind]
    return spec.sharing_choosable and spec.default_shared != (variant == "shared")


def rows_for(kinds: Sequence[str], variants: Sequence[str]) -> List[Row]:
    return [Row(kind, variant) for kind in kinds for variant in variants if applies(kind, variant)]


def columns_for(flag_sets: Sequence[str], sizes: Sequence[str]) -> List[Column]:
    return [c for c in COLUMNS if c.flags in flag_sets and c.size in sizes]


def scenario_for(row: Row, column: Column, page: int = 4096) -> Scenario:
    """The cell's experiment: map A (and a target), apply the variant, mremap A."""
    kind = KINDS[row.kind]
    pages = kind.grid_pages
    size = pages * page
    relocated = kind.relocated
    fill = "A" if kind.fillable and row.variant != "unpopulated" else None
    prot = "none" if row.variant == "prot-none" and not relocated else "rw"
    shared = {"shared": True, "private": False}.get(row.variant)
    size_expr = None if relocated else SizeExpr(f"{pages}p")
    steps: List[Step] = [Mmap(name="A", kind=row.kind, size=size_expr, fill=fill, prot=prot, shared=shared)]
    if column.size == "onto":
        steps.append(Mmap(name="T", kind="anon", size=SizeExpr("2p"), at=AddrExpr(TARGET), fill="T"))
    if row.variant == "prot-none" and relocated:
        steps.append(Mprotect(at=AddrExpr("A"), prot="none"))
    if row.variant == "mlocked":
        steps.append(Mlock(at=AddrExpr("A")))
    if row.variant == "sealed":
        steps.append(Mseal(at=AddrExpr("A")))
    old, new = {
        "same": (size, size),
        "grow": (size, 2 * size),
        "zero": (0, size),
        "onto": (size, size),
        "shrink": (size, max(page, size // 2 // page * page)),
    }[column.size]
    bits = FLAG_SETS[column.flags]
    steps.append(
        Mremap(
            old=AddrExpr("A"),
            old_size=SizeExpr(str(old)),
            new_size=SizeExpr(str(new)),
            raw=bits,
            new_address=AddrExpr(TARGET) if bits & F.MREMAP_FIXED else None,
            name="B",
        )
    )
    return Scenario(tuple(steps), description=f"{row.label}: {column.label}")
