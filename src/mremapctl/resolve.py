"""What each scenario step means, decided once: addresses, sizes, defaults, placement, range checks.

The engine resolves a step just before a machine carries it out; ``--show-c`` resolves the
same step when it writes the program. Most values are known before anything runs (the lab is
fixed, the placer gives each region its own GiB, expressions are sums). A few only exist at
run time in a C program — where the kernel put a MREMAP_MAYMOVE result, how big the vDSO is —
and are kept symbolic: a variable plus an offset.

One rule differs, and on purpose. The engine knows every address, so it accepts a range inside
the lab or inside any region. The C program must *prove* a range safe before it runs
(``strict``): a symbolic range is accepted only inside the region its expression names.
"""

from __future__ import annotations

from typing import Dict, List, NamedTuple, Optional, Tuple

from mremapctl import flags as F
from mremapctl.errors import BadInput
from mremapctl.expr import AddrExpr, SizeExpr
from mremapctl.kinds import KINDS
from mremapctl.lab import Lab, Placer
from mremapctl.scenario import steps as S
from mremapctl.units import format_size

# A kernel-sized region (vDSO, aio ring) is assumed smaller than this; the C program checks.
KERNEL_SIZED_MAX = 64 << 20
_BIG = 1 << 62  # a stand-in base, to read an expression's offset from a run-time address


class Addr(NamedTuple):
    """An address: a literal (``var`` None), or a run-time variable plus an offset."""

    var: Optional[str]
    offset: int
    text: str = ""  # the scenario's expression, for comments and messages

    def same_place(self, other: Addr) -> bool:
        return (self.var, self.offset) == (other.var, other.offset)


class Size(NamedTuple):
    """A byte count: a literal, or a run-time variable whose value is at most ``value``."""

    var: Optional[str]
    value: int


class Region(NamedTuple):
    """A region a step created: where, how big, and its kind (None: made by mremap, untracked)."""

    name: str
    addr: Addr
    size: Size
    kind: Optional[str]
    owns_object: bool = False  # mmap made a backing object for it that `same_as` can map again

    def covers(self, addr: int) -> bool:
        return self.addr.var is None and self.addr.offset <= addr < self.addr.offset + self.size.value


class MmapPlan(NamedTuple):
    """A resolved mmap step (the kind after same_as, sharing after defaults)."""

    kind: str
    shared: bool
    addr: Addr
    size: Optional[int]  # None: the kernel decides (vdso, aio)
    placed: bool  # no `at`: the placer chose the address


class RemapPlan(NamedTuple):
    old: Addr
    old_size: Size
    new_size: Size
    flags: int
    new_address: Addr


class Resolver:
    """Tracks the regions a scenario defines and resolves each step against them."""

    def __init__(self, page_size: int, lab: Optional[Lab] = None, *, strict: bool = False) -> None:
        self.page = page_size
        self.lab = lab or Lab()
        self.strict = strict
        self.placer = Placer(self.lab)
        self.regions: Dict[str, Region] = {}
        self.skippable_placement: Optional[Tuple[int, str]] = None

    # -- expressions -----------------------------------------------------------------------------

    def addr(self, expr: AddrExpr) -> Addr:
        base = expr.base_name
        at = None if base is None or base == "lab" else self.regions[base].addr
        if at is None or at.var is None:
            start = self.lab.start if base == "lab" else (at.offset if at is not None else 0)
            return Addr(None, expr.resolve(lambda _: start, self.page), expr.text)
        delta = expr.resolve(lambda _: _BIG, self.page) - _BIG
        return Addr(at.var, at.offset + delta, expr.text)

    def size(self, expr: Optional[SizeExpr], at: Optional[AddrExpr], what: str) -> Size:
        if expr is not None:
            return Size(None, expr.resolve(self.page))
        name = at.base_name if at is not None and at.is_bare_name else None
        if name is not None and name in self.regions:
            return self.regions[name].size
        raise BadInput(
            f"{what}: give a size (it defaults to a region's size only when the address is a bare region name)"
        )

    def check_inside(self, start: Addr, size: Size, at: Optional[AddrExpr], what: str) -> None:
        """Refuse any range outside the lab and the experiment's own regions: nothing else is touched."""
        end = start.offset + size.value
        if start.var is None and self.lab.contains(start.offset, end):
            return
        if self.strict:
            named = self.regions.get(at.base_name or "") if at is not None else None
            if named is not None and _within(start, size, named):
                return
            where = f"{start.offset:#x}" if start.var is None else f"{start.text or start.var}"
            raise BadInput(
                f"{what}: the range at {where} ({size.value} bytes) reaches outside the lab "
                f"({self.lab.start:#x}-{self.lab.end:#x}) and the region it names; the C program "
                "only acts on ranges it can prove are inside them"
            )
        if any(_within(start, size, region) for region in self.regions.values()):
            return
        raise BadInput(
            f"{what}: the range {start.offset:#x}-{end:#x} reaches outside the lab "
            f"({self.lab.start:#x}-{self.lab.end:#x}) and the experiment's regions"
        )

    # -- steps -----------------------------------------------------------------------------------

    def mmap(self, index: int, step: S.Mmap) -> MmapPlan:
        """Kind, sharing, size and address of a new region, checked."""
        kind_name = step.kind or (self._kind_of(index, step.same_as) if step.same_as else "anon")
        kind = KINDS[kind_name]
        size_expr = step.size or (SizeExpr(kind.default_size) if kind.default_size else None)
        size = size_expr.resolve(self.page) if size_expr else None
        if kind.relocated and step.size is not None:
            raise BadInput(f"step {index}: kind {kind_name!r} has the size the kernel gives it; drop `size`")
        addr = self.addr(step.at) if step.at is not None else Addr(None, self._place(index, step, size or self.page))
        if self.strict:
            what = f"step {index}: mmap at {addr.text or hex(addr.offset)}"
        else:
            what = f"step {index}: mmap of {format_size(size or 0)} at {addr.offset:#x}"
        self.check_inside(addr, Size(None, size or self.page), step.at, what)
        if step.same_as and kind.has_object and not self.regions[step.same_as].owns_object:
            raise BadInput(f"step {index}: same_as = {step.same_as!r}: that region has no object to share")
        shared = step.shared if step.shared is not None else kind.shared_by_default(step.path, step.writable)
        return MmapPlan(kind_name, shared, addr, size, step.at is None)

    def mremap(self, index: int, step: S.Mremap) -> RemapPlan:
        old = self.addr(step.old)
        old_size = self.size(step.old_size, step.old, f"step {index}: mremap old_size")
        new_size = Size(None, step.new_size.resolve(self.page)) if step.new_size is not None else old_size
        flags = step.flag_bits
        new_addr = self.addr(step.new_address) if step.new_address is not None else Addr(None, 0)
        self.check_inside(old, old_size, step.old, f"step {index}: mremap old range")
        if flags & F.MREMAP_FIXED:
            self.check_inside(new_addr, new_size, step.new_address, f"step {index}: mremap new range")
        elif new_addr.var is not None or new_addr.offset:
            self.check_inside(new_addr, Size(None, 0), step.new_address, f"step {index}: mremap new_address")
        return RemapPlan(old, old_size, new_size, flags, new_addr)

    def range(self, index: int, step: S.RangeStep) -> Tuple[Addr, Size]:
        """The [at, at+size) a read, write, munmap, mprotect … acts on, checked."""
        addr = self.addr(step.at)
        size = self.size(step.size, step.at, f"step {index}: {step.op} size")
        self.check_inside(addr, size, step.at, f"step {index}: {step.op}")
        return addr, size

    def created(self, step: S.Mmap, plan: MmapPlan, addr: Addr, size: Size) -> None:
        """An mmap step made its region; it owns a backing object when its kind has one of its own."""
        owns = KINDS[plan.kind].has_object and not step.same_as
        self.regions[step.name] = Region(step.name, addr, size, plan.kind, owns)

    def moved(self, name: str, addr: Addr, size: Size, old: Addr) -> None:
        """An mremap made region ``name`` from the range at ``old``: it has the kind found there,
        when that is known (a C program does not track what a moved range is)."""
        kind = None if self.strict else self.kind_at(old.offset)
        self.regions[name] = Region(name, addr, size, kind)

    def kind_at(self, addr: int) -> str:
        """The kind of the newest region covering addr (anon where none does)."""
        for region in reversed(list(self.regions.values())):
            if region.covers(addr):
                return region.kind or "anon"
        return "anon"

    def _kind_of(self, index: int, name: str) -> str:
        kind = self.regions[name].kind
        if kind is None:
            raise BadInput(
                f"step {index}: same_as = {name!r} names a region made by mremap: give `kind` explicitly "
                "(the C program does not track what a moved range is)"
            )
        return kind

    def _place(self, index: int, step: S.Mmap, size: int) -> int:
        """Placer.place; a C program also refuses placements that depend on a step being skipped."""
        if self.strict and self.skippable_placement is not None:
            earlier, needs = self.skippable_placement
            raise BadInput(
                f"step {index}: mmap {step.name!r} has no `at`, and its place depends on whether step {earlier} "
                f"runs (it is skipped when region {needs!r} is missing): give step {index} an explicit `at`"
            )
        if step.same_as:
            self.skippable_placement = (index, step.same_as)
        return self.placer.place(size)


def _within(start: Addr, size: Size, region: Region) -> bool:
    """Is [start, start+size) inside the region, whatever the run-time values turn out to be?"""
    if start.var != region.addr.var:
        return False
    if size.var is not None or region.size.var is not None:
        return size == region.size and start.same_place(region.addr)
    low = region.addr.offset
    return low <= start.offset and start.offset + size.value <= low + region.size.value


def referenced_regions(steps: Tuple[S.Step, ...]) -> List[str]:
    """Regions some step depends on (a C program gives only these an ``int have_X``)."""
    seen: List[str] = []
    for step in steps:
        seen += [r for r in step.region_refs() if r not in seen]
    return seen
