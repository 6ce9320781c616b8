"""The engine's rules for addresses and sizes, replayed when the program is written.

Most addresses are known before anything runs: the lab is fixed, the placer gives each
region its own GiB, and expressions are sums. They become hex literals. A few values only
exist at run time — where the kernel put a MREMAP_MAYMOVE result, how big the vDSO is —
and become C variables; an expression on top of one is that variable plus an offset.
Every rule here mirrors one in ``mremapctl.engine`` (named in the docstrings), so the
program acts on exactly the ranges the tool acts on, or refuses with BadInput.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from mremapctl.engine import default_shared
from mremapctl.errors import BadInput
from mremapctl.expr import AddrExpr, SizeExpr
from mremapctl.kinds import KINDS
from mremapctl.lab import Lab, Placer
from mremapctl.scenario import steps as S

# A kernel-sized region (vDSO, aio ring) is assumed smaller than this; the program checks.
KERNEL_SIZED_MAX = 64 << 20
_BIG = 1 << 62  # a stand-in base, to read an expression's offset from a run-time address

OBJECT_KINDS = frozenset({"memfd", "secretmem", "file", "perf"})  # makers that keep an fd for same_as


@dataclass(frozen=True)
class Addr:
    """An address: a literal (``var`` None), or a run-time variable plus an offset."""

    var: Optional[str]
    offset: int
    text: str = ""  # the scenario's expression, for comments

    def c(self) -> str:
        if self.var is None:
            value = f"{self.offset:#x}" if self.offset else "0"
        elif self.offset:
            value = f"{self.var} {'+' if self.offset > 0 else '-'} {abs(self.offset):#x}"
        else:
            value = self.var
        plain = self.var is not None and not self.offset  # the variable's name already says which region
        note = "" if plain or self.text in ("", value, hex(self.offset), str(self.offset)) else self.text
        return f"{value} /* {note} */" if note else value

    def same_place(self, other: Addr) -> bool:
        return (self.var, self.offset) == (other.var, other.offset)


@dataclass(frozen=True)
class Size:
    """A byte count: a literal, or a run-time variable whose value is at most ``value``."""

    var: Optional[str]
    value: int


@dataclass
class Region:
    """What the engine's ``regions`` entry will hold once the creating step succeeds."""

    name: str
    cname: str  # the region's name as a C identifier fragment
    addr: Addr
    size: Size
    kind: Optional[str]  # None: made by mremap (its kind is not tracked here)
    fd: Optional[str] = None  # the C variable of its backing object, for same_as


@dataclass
class MmapPlan:
    """A resolved mmap step: the engine's MapRequest, with symbolic address and size."""

    kind: str
    shared: bool
    addr: Addr
    size: Optional[int]  # None: the kernel decides (vdso, aio)
    placed: bool  # no `at`: the placer chose the address


class Planner:
    """Tracks the regions a scenario defines, as ``Engine`` does, before anything runs."""

    def __init__(self, page_size: int, lab: Optional[Lab] = None) -> None:
        self.page = page_size
        self.lab = lab or Lab()
        self.placer = Placer(self.lab)
        self.regions: Dict[str, Region] = {}
        self.cnames: Dict[str, str] = {}
        self.skippable_placement: Optional[Tuple[int, str]] = None

    def cname(self, name: str) -> str:
        """A C identifier fragment for a region name (scenario names may be any Unicode identifier)."""
        if name not in self.cnames:
            candidate = name if name.isascii() else f"region{len(self.cnames) + 1}"
            while candidate in self.cnames.values():
                candidate += "_"
            self.cnames[name] = candidate
        return self.cnames[name]

    # -- expressions (Engine.addr, Engine.size) ---------------------------------------------

    def addr(self, expr: AddrExpr) -> Addr:
        base = expr.base_name
        if base is None or base == "lab" or self.regions[base].addr.var is None:
            start = self.lab.start if base == "lab" else (self.regions[base].addr.offset if base else 0)
            return Addr(None, expr.resolve(lambda _: start, self.page), expr.text)
        region = self.regions[base]
        delta = expr.resolve(lambda _: _BIG, self.page) - _BIG
        return Addr(region.addr.var, region.addr.offset + delta, expr.text)

    def size(self, expr: Optional[SizeExpr], at: Optional[AddrExpr], what: str) -> Size:
        if expr is not None:
            return Size(None, expr.resolve(self.page))
        name = at.base_name if at is not None and at.is_bare_name else None
        if name is not None and name in self.regions:
            return self.regions[name].size
        raise BadInput(
            f"{what}: give a size (it defaults to a region's size only when the address is a bare region name)"
        )

    # -- Engine.check_inside ------------------------------------------------------------------

    def check_inside(self, start: Addr, size: Size, at: Optional[AddrExpr], what: str) -> None:
        """Refuse what the engine refuses; refuse too what cannot be proven inside before running.

        A range is accepted when it lies in the lab, or in the region its own expression names
        (that region exists whenever the step runs: otherwise the step is skipped).
        """
        if start.var is None and self.lab.contains(start.offset, start.offset + size.value):
            return
        named = self.regions.get(at.base_name or "") if at is not None else None
        if named is not None and _within(start, size, named):
            return
        where = f"{start.offset:#x}" if start.var is None else f"{start.text or start.var}"
        raise BadInput(
            f"{what}: the range at {where} ({size.value} bytes) reaches outside the lab "
            f"({self.lab.start:#x}-{self.lab.end:#x}) and the region it names; the C program "
            "only acts on ranges it can prove are inside them"
        )

    # -- steps ----------------------------------------------------------------------------------

    def plan_mmap(self, index: int, step: S.Mmap) -> MmapPlan:
        """Engine.do_mmap up to the machine call: kind, sharing, size and address."""
        kind_name = step.kind or "anon"
        if step.same_as:
            kind_name = step.kind or self._kind_of(index, step.same_as)
        kind = KINDS[kind_name]
        size_expr = step.size or (SizeExpr(kind.default_size) if kind.default_size else None)
        size = size_expr.resolve(self.page) if size_expr else None
        if kind.relocated and step.size is not None:
            raise BadInput(f"step {index}: kind {kind_name!r} has the size the kernel gives it; drop `size`")
        if step.at is not None:
            addr = self.addr(step.at)
        else:
            addr = Addr(None, self._place(index, step, size or self.page), "")
        checked = Size(None, size or self.page)
        self.check_inside(addr, checked, step.at, f"step {index}: mmap at {addr.text or hex(addr.offset)}")
        if kind_name in OBJECT_KINDS and step.same_as and self.regions[step.same_as].fd is None:
            raise BadInput(f"step {index}: same_as = {step.same_as!r}: that region has no object to share")
        shared = step.shared if step.shared is not None else default_shared(step)
        return MmapPlan(kind_name, shared, addr, size, step.at is None)

    def _kind_of(self, index: int, name: str) -> str:
        kind = self.regions[name].kind
        if kind is None:
            raise BadInput(
                f"step {index}: same_as = {name!r} names a region made by mremap: give `kind` explicitly "
                "(the C program does not track what a moved range is)"
            )
        return kind

    def _place(self, index: int, step: S.Mmap, size: int) -> int:
        """Placer.place, refusing placements that depend on a step being skipped at run time."""
        if self.skippable_placement is not None:
            earlier, needs = self.skippable_placement
            raise BadInput(
                f"step {index}: mmap {step.name!r} has no `at`, and its place depends on whether step {earlier} "
                f"runs (it is skipped when region {needs!r} is missing): give step {index} an explicit `at`"
            )
        if step.same_as:
            self.skippable_placement = (index, step.same_as)
        return self.placer.place(size)

    def add(self, region: Region) -> None:
        self.regions[region.name] = region


def _within(start: Addr, size: Size, region: Region) -> bool:
    """Is [start, start+size) inside the region, whatever the run-time values turn out to be?"""
    if start.var != region.addr.var:
        return False
    if size.var is not None or region.size.var is not None:
        return size == region.size and start.same_place(region.addr)
    low = region.addr.offset
    return low <= start.offset and start.offset + size.value <= low + region.size.value


def referenced_regions(steps: Tuple[S.Step, ...]) -> List[str]:
    """Regions some step depends on: only these need an ``int have_X`` in the program."""
    seen: List[str] = []
    for step in steps:
        seen += [r for r in step.region_refs() if r not in seen]
    return seen
