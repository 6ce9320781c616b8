"""``try``'s one experiment, built as an ordinary scenario so it can be saved and replayed.

The scenario maps a region called ``old``, optionally locks or seals it, mremaps it (the
result is called ``new``), then reads both ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from mremapctl import flags as F
from mremapctl.errors import BadInput
from mremapctl.expr import AddrExpr, SizeExpr
from mremapctl.kinds import KINDS
from mremapctl.lab import GiB, align_up
from mremapctl.scenario.load import Scenario, validate
from mremapctl.scenario.steps import Mlock, Mmap, Mremap, Mseal, Read, Step


@dataclass
class TryOptions:
    kind: str = "anon"
    shared: Optional[bool] = None
    hugetlb: bool = False
    dir: Optional[str] = None
    path: Optional[str] = None
    writable: bool = False
    size: Optional[str] = None
    prot: str = "rw"
    fill: Optional[str] = "A"
    mlock: bool = False
    mseal: bool = False
    locked: bool = False
    old_size: Optional[str] = None
    new_size: Optional[str] = None
    maymove: bool = False
    fixed: Optional[str] = None  # "" = a free spot in the lab
    dontunmap: bool = False
    raw_flags: Optional[int] = None
    offset: Optional[str] = None
    grow: bool = False
    shrink: bool = False
    notes: List[str] = field(default_factory=list)


def _pages_text(value: int, page: int) -> str:
    return f"{value // page}p" if value % page == 0 and value else str(value)


def flag_bits(opts: TryOptions) -> Tuple[int, List[str]]:
    """The mremap flags, and a note for each flag implied rather than asked for."""
    if opts.raw_flags is not None:
        if opts.maymove or opts.dontunmap or opts.fixed is not None:
            raise BadInput("--raw-flags gives the exact bits: drop --maymove, --fixed and --dontunmap")
        return opts.raw_flags, []
    bits, notes = 0, []
    if opts.maymove:
        bits |= F.MREMAP_MAYMOVE
    if opts.fixed is not None:
        bits |= F.MREMAP_FIXED
    if opts.dontunmap:
        bits |= F.MREMAP_DONTUNMAP
    for flag, option in ((F.MREMAP_DONTUNMAP, "--dontunmap"), (F.MREMAP_FIXED, "--fixed")):
        if bits & flag and not bits & F.MREMAP_MAYMOVE:
            bits |= F.MREMAP_MAYMOVE
            notes.append(
                f"{option} implies MREMAP_MAYMOVE (the kernel refuses it without); --raw-flags sends exact bits"
            )
    return bits, notes


def build(opts: TryOptions, page_size: int) -> Tuple[Scenario, List[str]]:
    """The scenario ``try`` runs, and notes to show the user."""
    if opts.grow and opts.shrink:
        raise BadInput("--grow and --shrink exclude each other")
    if (opts.grow or opts.shrink) and opts.new_size is not None:
        raise BadInput("--grow/--shrink choose the new size: drop --new-size")
    bits, notes = flag_bits(opts)
    steps: List[Step] = [_mmap_step(opts)]
    if opts.mlock:
        steps.append(Mlock(at=AddrExpr("old")))
    if opts.mseal:
        steps.append(Mseal(at=AddrExpr("old")))
    steps.append(_mremap_step(opts, bits, page_size))
    steps += [Read(at=AddrExpr("old")), Read(at=AddrExpr("new"))]
    validate(tuple(steps), "try")
    return Scenario(tuple(steps), description=describe(opts, bits)), notes


def _mmap_step(opts: TryOptions) -> Mmap:
    return Mmap(
        name="old",
        kind=opts.kind,
        shared=opts.shared,
        size=SizeExpr(opts.size) if opts.size else None,
        prot=opts.prot,
        fill=opts.fill,
        locked=opts.locked,
        hugetlb=opts.hugetlb,
        dir=opts.dir,
        path=opts.path,
        writable=opts.writable,
    )


def _sizes(opts: TryOptions, page_size: int) -> Tuple[Optional[int], int, Optional[int], Optional[int]]:
    """(region size, offset, old_size, new_size) in bytes; None where the kernel decides the size."""
    size_text = opts.size or KINDS[opts.kind].default_size
    region = SizeExpr(size_text).resolve(page_size) if size_text is not None else None
    offset = SizeExpr(opts.offset).resolve(page_size) if opts.offset else 0
    if opts.old_size is not None:
        old_size: Optional[int] = SizeExpr(opts.old_size).resolve(page_size)
    else:
        old_size = region - offset if region is not None else None
    if old_size is not None and old_size < 0:
        raise BadInput(f"--offset {opts.offset} is beyond the region's size")
    if opts.new_size is not None:
        new_size: Optional[int] = SizeExpr(opts.new_size).resolve(page_size)
    else:  # old_size 0 asks for a duplicate: of the whole region unless told otherwise
        new_size = region if old_size == 0 else old_size
    if opts.grow or opts.shrink:
        if old_size is None:
            raise BadInput(f"kind {opts.kind!r} has a kernel-chosen size: give --old-size and --new-size")
        new_size = old_size * 2 if opts.grow else max(page_size, old_size // 2 // page_size * page_size)
    return region, offset, old_size, new_size


def _mremap_step(opts: TryOptions, bits: int, page_size: int) -> Mremap:
    region, offset, old_size, new_size = _sizes(opts, page_size)
    new_address = None
    if opts.fixed:
        new_address = AddrExpr(opts.fixed)
    elif opts.fixed is not None or bits & F.MREMAP_FIXED:  # a free spot: the next GiB the region leaves alone
        end = max(region or page_size, new_size or 0)
        new_address = AddrExpr(f"lab+{align_up(end + 1, GiB) // GiB}G")
    explicit_old = old_size is not None and (offset or opts.old_size is not None)
    return Mremap(
        old=AddrExpr(f"old+{_pages_text(offset, page_size)}" if offset else "old"),
        old_size=SizeExpr(_pages_text(old_size, page_size)) if explicit_old and old_size is not None else None,
        new_size=SizeExpr(_pages_text(new_size, page_size)) if new_size is not None and new_size != old_size else None,
        flags=tuple(F.mremap_flag_names(bits)) if opts.raw_flags is None else (),
        raw=opts.raw_flags,
        new_address=new_address,
        name="new",
    )


def describe(opts: TryOptions, bits: int) -> str:
    flags = F.decode_flags(bits, F.MREMAP_FLAGS, "MREMAP_")
    return f"try: {opts.kind} region, mremap with {flags}"


READ_LABELS = ("old range", "new range")
