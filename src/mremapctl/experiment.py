"""``try``'s one experiment, built as an ordinary scenario so it can be saved and replayed.

The scenario maps a region called ``old``, optionally locks or seals it, mremaps it (the
result is called ``new``), then reads both ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from mremapctl import flags as F
from mremapctl.calls import errno_message
from mremapctl.errors import BadInput
from mremapctl.expr import AddrExpr, SizeExpr
from mremapctl.kinds import KINDS
from mremapctl.lab import GiB, align_up
from mremapctl.results import FAILED, SKIPPED, Run
from mremapctl.scenario import values as V
from mremapctl.scenario.load import Scenario, validate, writes_into_user_files
from mremapctl.scenario.steps import Madvise, Mlock, Mmap, Mprotect, Mremap, Mseal, Read, Step, UffdRegister, Write


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
    uffd: Optional[str] = None  # register the region with userfaultfd in this mode before the mremap
    hint: Optional[str] = None  # new_address without FIXED: where DONTUNMAP would like the copy
    onto: bool = False  # FIXED onto an existing mapping (made first, filled with "T")
    populate: Optional[str] = None  # "read" | "write": MADV_POPULATE_READ / _WRITE, no data written
    thp: Optional[str] = None  # "huge" | "none": MADV_HUGEPAGE / MADV_NOHUGEPAGE before the first touch
    notes: List[str] = field(default_factory=list)


def _pages_text(value: int, page: int) -> str:
    return f"{value // page}p" if value % page == 0 and value else str(value)


TARGET = "target"  # the mapping --onto moves onto


def flag_bits(opts: TryOptions) -> Tuple[int, List[str]]:
    """The mremap flags, and a note for each flag implied rather than asked for."""
    if opts.hint is not None and (opts.fixed is not None or opts.onto):
        fixed = "--fixed" if opts.fixed is not None else "--onto"
        raise BadInput(f"--hint and {fixed} exclude each other: --hint is new_address without MREMAP_FIXED")
    if opts.raw_flags is not None:
        if opts.maymove or opts.dontunmap or opts.fixed == "":
            raise BadInput(
                "--raw-flags gives the exact bits: drop --maymove, --dontunmap and a bare --fixed "
                "(--fixed ADDR, --hint ADDR and --onto give new_address)"
            )
        return opts.raw_flags, []
    bits, notes = 0, []
    if opts.maymove:
        bits |= F.MREMAP_MAYMOVE
    if opts.fixed is not None or opts.onto:
        bits |= F.MREMAP_FIXED
    if opts.onto and opts.fixed is None:
        notes.append(f"--onto implies MREMAP_FIXED: the move lands on the mapping {TARGET!r}, made first")
    if opts.dontunmap:
        bits |= F.MREMAP_DONTUNMAP
    fixed_by = "--fixed" if opts.fixed is not None else "--onto"
    for flag, option in ((F.MREMAP_DONTUNMAP, "--dontunmap"), (F.MREMAP_FIXED, fixed_by)):
        if bits & flag and not bits & F.MREMAP_MAYMOVE:
            bits |= F.MREMAP_MAYMOVE
            notes.append(
                f"{option} implies MREMAP_MAYMOVE (the kernel refuses it without); --raw-flags sends exact bits"
            )
    return bits, notes


def build(opts: TryOptions, page_size: int, words: Optional[Dict[str, str]] = None) -> Tuple[Scenario, List[str]]:
    """The scenario ``try`` runs, and notes to show the user (``words``: the CLI's names for the keys)."""
    if opts.grow and opts.shrink:
        raise BadInput("--grow and --shrink exclude each other")
    if (opts.grow or opts.shrink) and opts.new_size is not None:
        raise BadInput("--grow/--shrink choose the new size: drop --new-size")
    bits, notes = flag_bits(opts)
    steps: List[Step] = [*_region_steps(opts), *_target_steps(opts, bits, page_size)]
    if opts.mlock:
        steps.append(Mlock(at=AddrExpr("old")))
    if opts.uffd:
        steps.append(UffdRegister(at=AddrExpr("old"), mode=opts.uffd))
    if opts.mseal:
        steps.append(Mseal(at=AddrExpr("old")))
    steps.append(_mremap_step(opts, bits, page_size))
    steps += [Read(at=AddrExpr("old")), Read(at=AddrExpr("new"))]
    validate(tuple(steps), "try", words)
    return Scenario(tuple(steps), description=describe(opts, bits)), notes + writes_into_user_files(tuple(steps))


def _region_steps(opts: TryOptions) -> List[Step]:
    """Map the region; with --thp the advice comes before the first touch, so the fill is a write
    after it (then the protection asked for); --populate faults the pages in without writing."""
    advise_first = opts.thp is not None and opts.fill is not None
    first_fill, first_prot = (None, _with_write(opts.prot)) if advise_first else (opts.fill, None)
    steps: List[Step] = [_mmap_step(opts, fill=first_fill, prot=first_prot)]
    if opts.thp:
        steps.append(Madvise(at=AddrExpr("old"), advice=V.THP_ADVICE[opts.thp]))
    if opts.populate:
        steps.append(Madvise(at=AddrExpr("old"), advice=V.POPULATE_ADVICE[opts.populate]))
    if advise_first and opts.fill is not None:
        steps.append(Write(at=AddrExpr("old"), byte=opts.fill))
        if "w" not in opts.prot:
            steps.append(Mprotect(at=AddrExpr("old"), prot=opts.prot))
    return steps


def _with_write(prot: str) -> str:
    """The protection to fill under: the one asked for, plus write (and read, for a write to fault in)."""
    return "".join(c for c in "rwx" if c in prot or c in "rw")


def _target_steps(opts: TryOptions, bits: int, page_size: int) -> List[Step]:
    """--onto: the mapping the FIXED move lands on, where it will land, one page longer than the
    move, so what is left of it shows (a mapping replaced whole would read as unchanged maps)."""
    if not opts.onto:
        return []
    _, _, _, new_size = _sizes(opts, page_size)
    size = _pages_text(align_up(new_size or 0, page_size) + page_size, page_size)
    return [Mmap(name=TARGET, kind="anon", size=SizeExpr(size), at=_fixed_address(opts, bits, page_size), fill="T")]


def _mmap_step(opts: TryOptions, fill: Optional[str], prot: Optional[str]) -> Mmap:
    return Mmap(
        name="old",
        kind=opts.kind,
        shared=opts.shared,
        size=SizeExpr(opts.size) if opts.size else None,
        prot=prot or opts.prot,
        fill=fill,
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
        new_size = old_size * 2 if opts.grow else old_size // 2 // page_size * page_size
        if opts.shrink and new_size == 0:
            raise BadInput(f"--shrink halves old_size to whole pages: {old_size} bytes is less than two pages")
    return region, offset, old_size, new_size


def _fixed_address(opts: TryOptions, bits: int, page_size: int) -> Optional[AddrExpr]:
    """new_address: --fixed ADDR or --hint ADDR as given, else for FIXED a free spot (the next GiB
    the region leaves alone), else none."""
    if opts.fixed or opts.hint:  # with --raw-flags too: the bits are exact, the address is where FIXED goes
        return AddrExpr(opts.fixed or opts.hint or "")
    if opts.fixed is not None or bits & F.MREMAP_FIXED:
        region, _, _, new_size = _sizes(opts, page_size)
        end = max(region or page_size, new_size or 0)
        return AddrExpr(f"lab+{align_up(end + 1, GiB) // GiB}G")
    return None


def _mremap_step(opts: TryOptions, bits: int, page_size: int) -> Mremap:
    _, offset, old_size, new_size = _sizes(opts, page_size)
    new_address = AddrExpr(TARGET) if opts.onto else _fixed_address(opts, bits, page_size)
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
    return f"try: {opts.kind} region, mremap with {F.mremap_flags_text(bits)}"


READ_LABELS = ("old range", "new range")

# Why a setup call of `try` fails, in a few words (the errno alone rarely says it).
SETUP_REASONS = {
    ("mmap", "EINVAL"): "mmap refuses a zero length, and flags or a size the kind does not allow",
    ("mmap", "ENODEV"): "this file cannot be mapped",
    ("mmap", "EAGAIN"): "MAP_LOCKED would exceed RLIMIT_MEMLOCK",
    ("mmap", "ENOMEM"): "no room, or the overcommit limit",
    ("mmap", "EACCES"): "the file's open mode does not allow this protection",
    ("mmap", "EPERM"): "not permitted (a seal, or an operation that needs privilege)",
    ("mlock", "ENOMEM"): "over RLIMIT_MEMLOCK, or part of the range is not mapped",
    ("mlock", "EPERM"): "not permitted: RLIMIT_MEMLOCK is 0 and CAP_IPC_LOCK is missing",
    ("mseal", "ENOSYS"): "this kernel has no mseal() (6.10+)",
    ("mseal", "EINVAL"): "this kernel refuses mseal() here (on 32-bit, or a bad range)",
    ("madvise", "EINVAL"): "unknown advice here (MADV_POPULATE_* came in 5.14), or the range refuses it",
}


def not_carried_out(run: Run) -> Optional[str]:
    """Why `try`'s experiment did not happen: its mremap was skipped because a setup call failed."""
    mremap = next((s for s in run.steps if s.op == "mremap"), None)
    if mremap is None or mremap.status != SKIPPED:
        return None
    failed = next((s for s in run.steps if s.status == FAILED), None)
    if failed is None or failed.errno is None:
        return "its setup did not complete, so the mremap was not called"
    reason = SETUP_REASONS.get((failed.op, failed.errno), errno_message(failed.errno))
    return f"{failed.call} failed with {failed.errno} ({reason}), so the mremap was not called"
